import Glibc
import XCTest

@testable import Reactor

/// Who keeps a socket alive while the reactor works on it: the callback that is running, then
/// the flush it scheduled (which takes over the callback's reference), then nobody.
final class StreamSocketOwnershipTests: XCTestCase {
    private final class Holder {
        var socket: StreamSocket?
    }

    /// Collects what `socket` receives until EOF.
    private final class Collector {
        var bytes: [UInt8] = []
        var sawEOF = false
        init(_ socket: StreamSocket) {
            socket.readInterest = true
            socket.onReadable = { [unowned self, unowned socket] in
                self.bytes += socket.input.read(upTo: socket.input.readableBytes)
                if socket.isEOF { self.sawEOF = true }
            }
        }
    }

    private func makePair(_ reactor: Reactor) -> (StreamSocket, StreamSocket) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds), 0)
        return (StreamSocket(adopting: fds[0], on: reactor), StreamSocket(adopting: fds[1], on: reactor))
    }

    /// A pair whose first socket only `holder` references (no local keeps it alive).
    private func makeHeldPair(_ reactor: Reactor) -> (Holder, StreamSocket) {
        let holder = Holder()
        let (held, peer) = makePair(reactor)
        holder.socket = held
        return (holder, peer)
    }

    private func run(_ reactor: Reactor, until done: () -> Bool) throws {
        let deadline = MonotonicClock.seconds() + 5
        while !done() && MonotonicClock.seconds() < deadline { try reactor.step(timeout: 0.05) }
    }

    /// Sends a question to a socket that only `holder` references, with `reader` as its reader;
    /// returns what came back until EOF, and whether the socket was freed.
    private func ask(_ reader: @escaping (Holder) -> Void) throws -> (answer: [UInt8], sawEOF: Bool, freed: Bool) {
        let reactor = try Reactor()
        let (holder, client) = makeHeldPair(reactor)
        weak let gone = holder.socket
        holder.socket!.readInterest = true
        holder.socket!.onReadable = { reader(holder) }
        let collector = Collector(client)
        client.write(Array("question".utf8))
        try run(reactor) { collector.sawEOF }
        return (collector.bytes, collector.sawEOF, gone == nil)
    }

    func testAReaderThatAnswersAndDropsItsSocketStillSendsTheAnswer() throws {
        let outcome = try ask { holder in
            guard let socket = holder.socket else { return }
            _ = socket.input.read(upTo: socket.input.readableBytes)
            socket.write(Array("answer".utf8))
            holder.socket = nil
        }
        XCTAssertEqual(outcome.answer, Array("answer".utf8))
        XCTAssertTrue(outcome.sawEOF, "the dropped socket closed its fd once its answer went out")
        XCTAssertTrue(outcome.freed)
    }

    func testAReaderThatDropsItsSocketWithoutWritingFreesIt() throws {
        let outcome = try ask { holder in holder.socket = nil }
        XCTAssertTrue(outcome.sawEOF)
        XCTAssertEqual(outcome.answer, [])
        XCTAssertTrue(outcome.freed)
    }

    func testAReaderThatWritesThenClosesSendsNothing() throws {
        let outcome = try ask { holder in
            guard let socket = holder.socket else { return }
            socket.write(Array("dropped".utf8))
            socket.close()
            holder.socket = nil
        }
        XCTAssertTrue(outcome.sawEOF)
        XCTAssertEqual(outcome.answer, [], "close() drops queued output")
        XCTAssertTrue(outcome.freed)
    }

    /// The reader writes to another socket (a relay) and drops it: that socket's flush holds a
    /// reference of its own.
    func testAReaderRelayingToAnotherDroppedSocketStillSendsIt() throws {
        let reactor = try Reactor()
        let (inbound, inboundPeer) = makePair(reactor)
        let (holder, outboundPeer) = makeHeldPair(reactor)
        weak let goneOutbound = holder.socket
        inbound.readInterest = true
        inbound.onReadable = { [unowned inbound] in
            let bytes = inbound.input.read(upTo: inbound.input.readableBytes)
            holder.socket?.write(bytes)
            holder.socket = nil
        }
        let collector = Collector(outboundPeer)
        inboundPeer.write(Array("relayed".utf8))
        try run(reactor) { collector.sawEOF }
        XCTAssertEqual(collector.bytes, Array("relayed".utf8))
        XCTAssertNil(goneOutbound)
        _ = inbound
    }

    /// A socket that waited for the fd to become writable is flushed from its write readiness;
    /// what `onDrained` writes then, before dropping the socket, still goes out.
    func testWhatOnDrainedWritesBeforeDroppingTheSocketGoesOut() throws {
        let reactor = try Reactor()
        let (holder, client) = makeHeldPair(reactor)
        weak let gone = holder.socket
        let bulk = [UInt8](repeating: 0x61, count: 4 << 20)
        var drainedOnce = false
        holder.socket!.onDrained = {
            guard !drainedOnce, let socket = holder.socket else { return }
            drainedOnce = true
            socket.write(Array("tail".utf8))
            holder.socket = nil
        }
        holder.socket!.write(bulk)
        let collector = Collector(client)
        try run(reactor) { collector.sawEOF }
        XCTAssertTrue(drainedOnce)
        XCTAssertEqual(collector.bytes.count, bulk.count + 4)
        XCTAssertEqual(Array(collector.bytes.suffix(4)), Array("tail".utf8))
        XCTAssertNil(gone)
    }
}
