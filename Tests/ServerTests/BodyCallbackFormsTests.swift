import Foundation
import Stepwise
import XCTest

/// The callback forms of the body helpers, from a `.callback` handler: each completion runs on
/// the reactor's thread with what the async form returns.
final class BodyCallbackFormsTests: XCTestCase {
    private static func respond(_ stream: any HTTPStream, _ status: Int, _ text: String) {
        var headers = Headers()
        headers.append(":status", String(status))
        do {
            try stream.writeHeaders(headers, endStream: false)
            stream.writeBody(text, timeout: 5) { result in
                if case .failure = result { stream.shutdown() }
            }
        } catch {
            stream.shutdown()
        }
    }

    /// `/pieces`: `getBodyChars(3)`, `getBodyUntil(",")`, then `getBodyAsBytes` for the rest,
    /// answered as "chars|until|rest". `/file`: `getBodyAsFile`, sent back with
    /// `writeBody(from:)`. `/path?P`: `saveBody(toPath: P)`, sent back with `writeBody(fromPath:)`.
    private static let handler = Server.Handler.callback { stream in
        stream.getHeaders(timeout: 5) { head in
            let target = (try? head.get())??.first(":path") ?? "/"
            func failed(_ error: any Error) { respond(stream, 500, "\(error)") }
            if target == "/pieces" {
                stream.getBodyChars(3, timeout: 5) { chars in
                    stream.getBodyUntil(Array(",".utf8), timeout: 5) { until in
                        stream.getBodyAsBytes(timeout: 5) { rest in
                            do {
                                let parts = [try chars.get() ?? [], try until.get() ?? [], try rest.get()]
                                respond(
                                    stream, 200,
                                    parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "|"))
                            } catch { failed(error) }
                        }
                    }
                }
            } else if target == "/file" {
                stream.getBodyAsFile(timeout: 5) { file in
                    do {
                        let file = try file.get()
                        var headers = Headers()
                        headers.append(":status", "200")
                        try stream.writeHeaders(headers, endStream: false)
                        stream.writeBody(from: file, timeout: 5) { if case .failure = $0 { stream.shutdown() } }
                    } catch { failed(error) }
                }
            } else if target.hasPrefix("/path?") {
                let path = String(target.dropFirst("/path?".count))
                stream.saveBody(toPath: path, timeout: 5) { saved in
                    do {
                        let count = try saved.get()
                        var headers = Headers()
                        headers.append(":status", "200")
                        headers.append("x-saved", String(count))
                        try stream.writeHeaders(headers, endStream: false)
                        stream.writeBody(fromPath: path, timeout: 5) { if case .failure = $0 { stream.shutdown() } }
                    } catch { failed(error) }
                }
            } else {
                respond(stream, 404, "no")
            }
        }
    }

    private func post(_ target: String, _ body: String) -> String {
        "POST \(target) HTTP/1.1\r\nHost: test\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    func testCharsUntilAndTheRest() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let client = try TestClient(port: server.port)
        let response = try client.exchange(post("/pieces", "abcdef,ghi,jkl"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, "abc|def|ghi,jkl")
        // The connection is still usable: everything was read and answered.
        XCTAssertEqual(try client.exchange(post("/pieces", "xyz,")).text, "xyz||")
    }

    func testTheBodyAsAFileAndBack() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let body = String(repeating: "0123456789", count: 50_000)
        let response = try TestClient(port: server.port).exchange(post("/file", body))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.text, body)
    }

    func testSavedToAPathAndSentFromIt() throws {
        let server = try TestServer(ServerOptions(), handler: Self.handler)
        let path = NSTemporaryDirectory() + "stepwise-callback-forms-\(getpid())"
        defer { unlink(path) }
        let response = try TestClient(port: server.port).exchange(post("/path?\(path)", "saved body"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("x-saved"), "10")
        XCTAssertEqual(response.text, "saved body")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "saved body")
    }
}
