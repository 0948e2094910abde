import Glibc

// Request bodies and the `Expect: 100-continue` decision.

extension Request {
    /// 1 MiB: a body at least this long is announced with `expect: 100-continue`.
    public static let expectContinueThreshold = 1 << 20

    /// Whether a body of `bodyLength` bytes (nil: unknown) should be sent with `expect:
    /// 100-continue`, so that a server can refuse it before it travels (RFC 9110 §10.1.1): for
    /// bodies of at least `expectContinueThreshold` bytes or of unknown length.
    ///
    /// This is curl's rule (1 MiB). lua-http uses 1024 bytes, which makes every modest
    /// upload wait up to `expect100Timeout` on servers that never send 100 Continue.
    public static func shouldExpectContinue(bodyLength: Int?) -> Bool {
        guard let bodyLength else { return true }
        return bodyLength >= expectContinueThreshold
    }

    /// Whether `go()` should wait (up to `expect100Timeout`) for `100 Continue` before sending the
    /// body: there is a body and an `expect` field with the `100-continue` element (which
    /// `setBody` adds by `shouldExpectContinue(bodyLength:)`, and which you may add or delete
    /// afterwards).
    ///
    /// The element is a token of the field's list, in any case and among others: `expect:
    /// 100-Continue, x-other` waits too, as the codec (which drops the element from a request
    /// without content) and servers read it. RFC 9110 §10.1.1: `Expect = #expectation` (a list),
    /// "The Expect field value is case-insensitive", and "The only expectation defined by this
    /// specification is "100-continue" (with no defined parameters)".
    public var expectsContinue: Bool {
        body != nil && headers.hasToken("expect", "100-continue")
    }

    /// Sends `text` (UTF-8) as the body.
    public func setBody(_ text: String) {
        install(.bytes(Array(text.utf8)), length: text.utf8.count)
    }

    /// Sends `bytes` as the body.
    public func setBody(bytes: [UInt8]) {
        install(.bytes(bytes), length: bytes.count)
    }

    /// Sends the file at `path`, read from its start on every attempt. A regular file's current
    /// size becomes `content-length` (`go()` must then send exactly that many bytes); a pipe or a
    /// device has no known length.
    /// - Throws: `RequestError.bodyFileUnreadable` when the file cannot be opened for reading or
    ///   is a directory (lua-http throws on file errors too).
    public func setBody(filePath path: String) throws(RequestError) {
        install(.file(path: path), length: try Request.bodyFileLength(path))
    }

    /// Sends the chunks `producer` returns until it returns nil; the length is unknown.
    public func setBody(producer: @escaping @Sendable () throws -> [UInt8]?) {
        install(.stream(producer), length: nil)
    }

    /// Removes the body with the fields that describe it: `content-length`, `expect`, and (as for a
    /// redirect that turns into a GET) `transfer-encoding` and every `content-*` field
    /// (representation metadata, RFC 9110 §8).
    public func removeBody() {
        body = nil
        headers.removeFields { field in
            field.name == "expect" || field.name == "transfer-encoding" || field.name.hasPrefix("content-")
        }
    }

    /// Sets the body; sets `content-length` when the length is known (RFC 9110 §8.6) and removes
    /// it otherwise; adds or removes the `100-continue` element of `expect` by
    /// `shouldExpectContinue` (the field's other expectations stay).
    private func install(_ newBody: RequestBody, length: Int?) {
        body = newBody
        if let length {
            headers.setSingle("content-length", String(length))
        } else {
            headers.delete("content-length")
        }
        if headers.hasToken("expect", "100-continue") {
            headers = headers.removingToken("100-continue", from: "expect")
        }
        if Request.shouldExpectContinue(bodyLength: length) { headers.append("expect", "100-continue") }
    }

    /// The size of the regular file at `path`, or nil for a pipe, socket or device. Opened without
    /// blocking, so a FIFO with no writer does not hang here.
    private static func bodyFileLength(_ path: String) throws(RequestError) -> Int? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw RequestError.bodyFileUnreadable(path: path, errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw RequestError.bodyFileUnreadable(path: path, errno: errno) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return Int(info.st_size)
        case S_IFDIR: throw RequestError.bodyFileUnreadable(path: path, errno: EISDIR)
        default: return nil
        }
    }
}
