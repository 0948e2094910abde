import Foundation
import Logging
import Stepwise
import XCTest

/// `Request.logger` (and through it `ClientOptions.logger`): what `go()` does, at debug level.
final class ClientLoggerTests: XCTestCase {
    /// A `LogHandler` that keeps the messages it is given (every level).
    struct Capture: LogHandler {
        let lines: Locked<[String]>
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) { lines.withLock { $0.append("\(event.level) \(event.message)") } }
    }

    func testARequestLogsItsConnectionItsRequestsAndTheRedirect() throws {
        let server = try TestServer(RequestGoTests.redirector)
        defer { server.stop() }
        let reactor = try Reactor()
        let lines = Locked<[String]>([])
        let request = try Request(uri: "http://127.0.0.1:\(server.port)/301")
        request.logger = Logger(label: "test") { _ in Capture(lines: lines) }
        XCTAssertEqual(try request.fetch(on: reactor, timeout: 5).text, "GET /target ")

        let log = lines.withLock { $0 }
        let text = log.joined(separator: "\n")
        XCTAssertTrue(log.allSatisfy { $0.hasPrefix("debug ") }, text)
        XCTAssertTrue(log.contains { $0.contains("connected to 127.0.0.1:\(server.port)") }, text)
        XCTAssertTrue(log.contains { $0.contains("GET http://127.0.0.1:\(server.port)/301") }, text)
        XCTAssertTrue(
            log.contains { $0.contains("following the 301 redirect to http://127.0.0.1:\(server.port)/target") }, text)
        XCTAssertTrue(log.contains { $0.contains("GET http://127.0.0.1:\(server.port)/target") }, text)
    }

    func testATLSConnectionLogsItsSession() throws {
        let server = try TestServer(RequestGoTests.redirector)
        defer { server.stop() }
        let reactor = try Reactor()
        let lines = Locked<[String]>([])
        var options = ClientOptions(host: "127.0.0.1", port: server.port, tls: true)
        options.tlsContext = try TLSContext.client(verify: false, alpn: ["http/1.1"])
        options.logger = Logger(label: "test") { _ in Capture(lines: lines) }
        let connection = try reactor.run { try await Client.connect(options, on: reactor, timeout: 5) }
        connection.close()
        let text = lines.withLock { $0 }.joined(separator: "\n")
        XCTAssertTrue(text.contains("TLS with 127.0.0.1:\(server.port): TLSv1.3"), text)
        XCTAssertTrue(text.contains("ALPN http/1.1"), text)
    }
}
