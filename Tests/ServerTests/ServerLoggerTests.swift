import Logging
import Stepwise
import Synchronization
import XCTest

/// The default `onError` logs to `Server.logger` as it is when the error happens.
final class ServerLoggerTests: XCTestCase {
    func testTheDefaultOnErrorLogsToTheLoggerSetLast() throws {
        let first = Locked<[(level: Logger.Level, message: String)]>([])
        let second = Locked<[(level: Logger.Level, message: String)]>([])
        var options = ServerOptions()
        options.logger = Logger(label: "first") { _ in RecordingLogHandler(records: first) }
        let server = try Server(options: options, handler: .callback { _ in })

        server.onError(.rejectedRequest(peer: "peer-a", error: .missingHost))
        XCTAssertEqual(first.withLock { $0.count }, 1)

        server.logger = Logger(label: "second") { _ in RecordingLogHandler(records: second) }
        server.onError(.handler(peer: "peer-b", request: "GET /x", error: TestError("boom")))
        server.onError(.rejectedRequest(peer: "peer-c", error: .missingHost))

        XCTAssertEqual(first.withLock { $0.count }, 1, "the replaced logger heard nothing more")
        let heard = second.withLock { $0 }
        XCTAssertEqual(heard.map(\.level), [.error, .info])
        XCTAssertTrue(heard[0].message.contains("peer-b") && heard[0].message.contains("boom"), heard[0].message)
        XCTAssertTrue(heard[1].message.contains("peer-c"), heard[1].message)
    }
}
