import Logging
import Stepwise
import Synchronization
import XCTest

/// The default `onError` logs to `Server.logger` as it is when the error happens.
final class ServerLoggerTests: XCTestCase {
    /// A `LogHandler` that keeps what it is given.
    struct Capture: LogHandler {
        let lines: Locked<[(Logger.Level, String)]>
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            lines.withLock { $0.append((event.level, "\(event.message)")) }
        }
    }

    func testTheDefaultOnErrorLogsToTheLoggerSetLast() throws {
        let first = Locked<[(Logger.Level, String)]>([])
        let second = Locked<[(Logger.Level, String)]>([])
        var options = ServerOptions()
        options.logger = Logger(label: "first") { _ in Capture(lines: first) }
        let server = try Server(options: options, handler: .callback { _ in })

        server.onError(.rejectedRequest(peer: "peer-a", error: .missingHost))
        XCTAssertEqual(first.withLock { $0.count }, 1)

        server.logger = Logger(label: "second") { _ in Capture(lines: second) }
        server.onError(.handler(peer: "peer-b", request: "GET /x", error: TestError("boom")))
        server.onError(.rejectedRequest(peer: "peer-c", error: .missingHost))

        XCTAssertEqual(first.withLock { $0.count }, 1, "the replaced logger heard nothing more")
        let heard = second.withLock { $0 }
        XCTAssertEqual(heard.map(\.0), [.error, .info])
        XCTAssertTrue(heard[0].1.contains("peer-b") && heard[0].1.contains("boom"), heard[0].1)
        XCTAssertTrue(heard[1].1.contains("peer-c"), heard[1].1)
    }
}
