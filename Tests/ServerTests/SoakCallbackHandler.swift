import Foundation
import Stepwise

#if canImport(Glibc)
    import Glibc
#endif

extension ServerSoakTests {
    /// The soak's routes, as a callback handler: the non-blocking reads and writes, timers for
    /// waits, `shutdown()` when a handler gives up. Same statuses and bodies as `handler`.
    static let callbackHandler = Server.Handler.callback { stream in
        stream.getHeaders(timeout: 2) { result in
            guard case .success(let request?) = result else { return stream.shutdown() }
            let target = request.first(":path") ?? "/"
            let path = String(target.split(separator: "?", maxSplits: 1).first ?? "/")
            let http11 = (stream as? H1Stream)?.peerVersion == .http11
            var response = Headers()
            response.append("x-id", request.first("x-id") ?? "-")
            func attempt(_ body: () throws -> Void) {
                do {
                    try body()
                    stream.shutdown()
                } catch {
                    stream.shutdown(after: error)
                }
            }
            func answer(_ body: [UInt8], status: Int = 200) {
                attempt {
                    response.append(":status", String(status))
                    try stream.writeMessage(response, body: body)
                }
            }
            /// Counts the body chunk by chunk, then answers with the count.
            func count(_ total: Int, limit: Int = .max) {
                guard total <= limit else { return stream.shutdown(after: HTTPStreamError.bodyTooLarge(limit: limit)) }
                stream.getNextChunk(timeout: 2) { result in
                    switch result {
                    case .failure(let error): stream.shutdown(after: error)
                    case .success(let chunk?): count(total + chunk.count, limit: limit)
                    case .success(nil): answer(Array(String(total).utf8))
                    }
                }
            }
            switch path {
            case "/small": answer(Array("ok".utf8))
            case "/large": answer(pattern(0, 300_000))
            case "/stream":
                attempt {
                    response.append(":status", "200")
                    try stream.writeHeaders(response, endStream: false)
                    for word in ["a", "bb", "ccc"] { try stream.writeChunk(word, endStream: false) }
                    try stream.writeChunk("", endStream: true)
                }
            case "/echo":
                stream.getBodyAsString(limit: 65536, timeout: 2) { result in
                    switch result {
                    case .failure(let error): stream.shutdown(after: error)
                    case .success(let text): answer(Array(text.utf8))
                    }
                }
            case "/chunks", "/save": count(0)
            case "/continue":
                if http11 {
                    var interim = Headers()
                    interim.append(":status", "100")
                    do { try stream.writeHeaders(interim, endStream: false) } catch {
                        return stream.shutdown(after: error)
                    }
                }
                count(0, limit: 65536)
            case "/throw":
                stream.shutdown(after: TestError("gave up on purpose"))
            case "/silent":
                stream.shutdown()
            case "/trailers":
                attempt {
                    response.append(":status", "200")
                    try stream.writeHeaders(response, endStream: false)
                    try stream.writeChunk("body", endStream: false)
                    if http11 {
                        var trailers = Headers()
                        trailers.append("x-checksum", "42")
                        try stream.writeHeaders(trailers, endStream: true)
                    } else {
                        try stream.writeChunk("", endStream: true)
                    }
                }
            case "/sleep":
                stream.reactor.schedule(after: 0.05) { _ in answer(Array("slept".utf8)) }
            case "/early": answer(Array("early".utf8))
            case "/file":
                do {
                    response.append(":status", "200")
                    response.append("content-length", "300000")
                    try stream.writeHeaders(response, endStream: false)
                } catch {
                    return stream.shutdown(after: error)
                }
                stream.writeBody(fromPath: filePath, timeout: 2) { result in
                    if case .failure(let error) = result { stream.shutdown(after: error) } else { stream.shutdown() }
                }
            case "/partial":
                stream.getNextChunk(timeout: 2) { result in
                    if case .failure(let error) = result { return stream.shutdown(after: error) }
                    answer(Array("partial".utf8))
                }
            case "/after":
                answer(Array("after".utf8))
                stream.getBodyAsBytes(limit: 1 << 20, timeout: 0.2) { _ in }
            case "/unget":
                stream.getNextChunk(timeout: 2) { result in
                    var count = 0
                    switch result {
                    case .failure(let error): return stream.shutdown(after: error)
                    case .success(let first?):
                        stream.unget(Array(first.dropFirst(first.count / 2)))
                        count = first.count / 2
                    case .success(nil): break
                    }
                    stream.getBodyAsBytes(limit: 1 << 20, timeout: 2) { result in
                        switch result {
                        case .failure(let error): stream.shutdown(after: error)
                        case .success(let rest): answer(Array(String(count + rest.count).utf8))
                        }
                    }
                }
            case "/chars":
                func chars(_ total: Int) {
                    stream.getBodyChars(997, timeout: 2) { result in
                        switch result {
                        case .failure(let error): stream.shutdown(after: error)
                        case .success(let piece?): chars(total + piece.count)
                        case .success(nil): answer(Array(String(total).utf8))
                        }
                    }
                }
                chars(0)
            case "/until":
                func until(_ total: Int) {
                    stream.getBodyUntil([0], includeDelimiter: true, limit: 262_144, timeout: 2) { result in
                        switch result {
                        case .failure(let error): stream.shutdown(after: error)
                        case .success(let piece?): until(total + piece.count)
                        case .success(nil): answer(Array(String(total).utf8))
                        }
                    }
                }
                until(0)
            default: answer(Array("not found".utf8), status: 404)
            }
        }
    }
}
