import Foundation
import HTTPCore
import Stepwise
import TestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// The soak's task handler: one behaviour per path, and what a valid request to each gets.
extension ServerSoakTests {
    static let routes = [
        "/small", "/large", "/stream", "/echo", "/chunks", "/save", "/throw", "/silent", "/trailers",
        "/continue", "/sleep", "/early", "/file", "/chars", "/until",
        "/partial", "/after", "/unget",
    ]

    /// The file `/file` sends: `pattern(0, 300_000)`.
    static let filePath: String = {
        let path = NSTemporaryDirectory() + "stepwise-soak-\(getpid()).bin"
        _ = FileManager.default.createFile(atPath: path, contents: Data(pattern(0, 300_000)))
        return path
    }()

    /// The handler: one behaviour per path; every answer it writes carries the request's `x-id`.
    static let handler = Server.Handler.task { stream in
        guard let request = try await stream.getHeaders(timeout: 2) else { return }
        let target = request.first(":path") ?? "/"
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "/")
        var response = Headers()
        response.append("x-id", request.first("x-id") ?? "-")
        func answer(_ body: [UInt8], status: Int = 200) async throws {
            response.append(":status", String(status))
            response.append("content-length", String(body.count))
            try await stream.writeHeaders(response, endStream: body.isEmpty, timeout: 2)
            if !body.isEmpty { try await stream.writeChunk(body, endStream: true, timeout: 2) }
        }
        switch path {
        case "/small":
            try await answer(Array("ok".utf8))
        case "/large":
            let total = 300_000
            response.append(":status", "200")
            response.append("content-length", String(total))
            try await stream.writeHeaders(response, endStream: false, timeout: 2)
            var offset = 0
            while offset < total {
                let count = min(16384, total - offset)
                try await stream.writeChunk(pattern(offset, count), endStream: offset + count == total, timeout: 2)
                offset += count
            }
        case "/stream":
            response.append(":status", "200")
            try await stream.writeHeaders(response, endStream: false, timeout: 2)
            for word in ["a", "bb", "ccc"] {
                try await stream.writeChunk(Array(word.utf8), endStream: false, timeout: 2)
            }
            try await stream.writeChunk([], endStream: true, timeout: 2)
        case "/echo":
            let body = try await stream.getBodyAsString(limit: 65536, timeout: 2)
            try await answer(Array(body.utf8))
        case "/chunks":
            var count = 0
            while let chunk = try await stream.getNextChunk(timeout: 2) { count += chunk.count }
            _ = try await stream.getHeaders(timeout: 2)
            try await answer(Array(String(count).utf8))
        case "/save":
            let fd = open("/dev/null", O_WRONLY | O_CLOEXEC)
            defer { Glibc.close(fd) }
            let saved = try await stream.saveBody(to: fd, timeout: 2)
            try await answer(Array(String(saved).utf8))
        case "/throw":
            throw TestError("thrown on purpose")
        case "/silent":
            return
        case "/trailers":
            response.append(":status", "200")
            try await stream.writeHeaders(response, endStream: false, timeout: 2)
            try await stream.writeChunk(Array("body".utf8), endStream: false, timeout: 2)
            if (stream as? H1Stream)?.peerVersion == .http11 {
                var trailers = Headers()
                trailers.append("x-checksum", "42")
                try await stream.writeHeaders(trailers, endStream: true, timeout: 2)
            } else {
                // An HTTP/1.0 body ends with the close: no trailers (the stream refuses them).
                try await stream.writeChunk([], endStream: true, timeout: 2)
            }
        case "/continue":
            // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client (the stream refuses it).
            if (stream as? H1Stream)?.peerVersion == .http11 { try await stream.writeContinue(timeout: 2) }
            let body = try await stream.getBodyAsBytes(limit: 65536, timeout: 2)
            try await answer(Array(String(body.count).utf8))
        case "/sleep":
            try await stream.reactor.sleep(seconds: 0.05)
            try await answer(Array("slept".utf8))
        case "/early":
            try await answer(Array("early".utf8))
        case "/file":
            response.append(":status", "200")
            response.append("content-length", "300000")
            try await stream.writeHeaders(response, endStream: false, timeout: 2)
            try await stream.writeBody(fromPath: filePath, timeout: 2)
        case "/partial":
            // Reads one piece of the body, then answers: the rest is drained or the connection closes.
            _ = try await stream.getNextChunk(timeout: 2)
            try await answer(Array("partial".utf8))
        case "/after":
            // Answers, then tries to read the body the connection drains meanwhile.
            try await answer(Array("after".utf8))
            _ = try? await stream.getBodyAsBytes(limit: 1 << 20, timeout: 0.2)
        case "/unget":
            var count = 0
            if let first = try await stream.getNextChunk(timeout: 2) {
                stream.unget(Array(first.dropFirst(first.count / 2)))
                count = first.count / 2
            }
            count += try await stream.getBodyAsBytes(limit: 1 << 20, timeout: 2).count
            try await answer(Array(String(count).utf8))
        case "/chars":
            var count = 0
            while let piece = try await stream.getBodyChars(997, timeout: 2) { count += piece.count }
            try await answer(Array(String(count).utf8))
        case "/until":
            var count = 0
            while let piece = try await stream.getBodyUntil([0], includeDelimiter: true, limit: 262_144, timeout: 2) {
                count += piece.count
            }
            try await answer(Array(String(count).utf8))
        default:
            try await answer(Array("not found".utf8), status: 404)
        }
    }

    /// The status a valid request gets.
    static func expectedStatus(_ request: Request) -> Int {
        switch request.route {
        case "/throw", "/silent": 503
        case "/echo", "/continue": request.bodyCount > 65536 ? 413 : 200
        default: 200
        }
    }

    static let statistics = Locked<[String: Int]>([:])

    /// The body a valid request's 200 carries (nil: not checked).
    static func expectedBody(_ request: Request) -> [UInt8]? {
        switch request.route {
        case "/small": Array("ok".utf8)
        case "/large": pattern(0, 300_000)
        case "/stream": Array("abbccc".utf8)
        // `getBodyAsString` decodes UTF-8, replacing what is not.
        case "/echo": Array(String(decoding: request.body, as: UTF8.self).utf8)
        case "/chunks", "/save", "/continue", "/chars", "/until", "/unget": Array(String(request.bodyCount).utf8)
        case "/partial": Array("partial".utf8)
        case "/after": Array("after".utf8)
        case "/file": pattern(0, 300_000)
        case "/trailers": Array("body".utf8)
        case "/sleep": Array("slept".utf8)
        case "/early": Array("early".utf8)
        default: nil
        }
    }

    static func readsBody(_ route: String) -> Bool {
        ["/echo", "/chunks", "/save", "/continue", "/chars", "/until", "/unget"].contains(route)
    }
}
