import Glibc
import XCTest

@testable import Reactor

/// A reader that answered leaves the interest update to the end-of-step flush: what it asked
/// for must still hold before libev polls again.
final class StreamSocketInterestTests: XCTestCase {
    private func makePair(_ reactor: Reactor) -> (StreamSocket, StreamSocket) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        return (StreamSocket(adopting: fds[0], on: reactor), StreamSocket(adopting: fds[1], on: reactor))
    }

    private func spin(_ reactor: Reactor, steps: Int) throws {
        for _ in 0..<steps { try reactor.step(timeout: 0.01) }
    }

    func testAReaderThatAnswersAndStopsReadingIsNotToldAgain() throws {
        let reactor = try Reactor()
        let (server, client) = makePair(reactor)
        var calls = 0
        server.readInterest = true
        server.onReadable = { [unowned server] in
            calls += 1
            _ = server.input.read(upTo: server.input.readableBytes)
            server.write(Array("answer".utf8))
            server.readInterest = false
        }
        var answer: [UInt8] = []
        client.readInterest = true
        client.onReadable = { [unowned client] in answer += client.input.read(upTo: client.input.readableBytes) }
        client.write(Array("first".utf8))
        try spin(reactor, steps: 20)
        XCTAssertEqual(calls, 1)
        XCTAssertEqual(answer, Array("answer".utf8))
        client.write(Array("second".utf8))
        try spin(reactor, steps: 20)
        XCTAssertEqual(calls, 1, "the reader turned reading off")
        XCTAssertEqual(server.input.readableBytes, 0, "nothing was read after reading was turned off")
        server.readInterest = true
        try spin(reactor, steps: 20)
        XCTAssertEqual(calls, 2)
        XCTAssertEqual(answer, Array("answeranswer".utf8))
    }

    func testAReaderThatAnswersKeepsReading() throws {
        let reactor = try Reactor()
        let (server, client) = makePair(reactor)
        var received: [UInt8] = []
        server.readInterest = true
        server.onReadable = { [unowned server] in
            received += server.input.read(upTo: server.input.readableBytes)
            server.write(Array("ok".utf8))
        }
        var answers = 0
        client.readInterest = true
        client.onReadable = { [unowned client] in
            answers += client.input.read(upTo: client.input.readableBytes).count / 2
        }
        for round in 0..<5 {
            client.write([UInt8(round)])
            try spin(reactor, steps: 10)
        }
        XCTAssertEqual(received, [0, 1, 2, 3, 4])
        XCTAssertEqual(answers, 5)
    }
}
