/// The fields a sender adds to a handler's head: one for the framing, one for persistence, and
/// `date`. They come from a fixed set, so they are kept as what they mean and written from
/// constants: never built as strings, never validated again.
///
/// They are written in that order, after the handler's fields.
struct HTTP1AddedFields: Equatable {
    /// RFC 9112 §6: how the body is delimited, when the handler's fields do not say.
    enum Framing: Equatable {
        case none
        /// `content-length: N`: a message that ends at its head (0), or whose whole body was
        /// given with it.
        case contentLength(UInt64)
        /// `transfer-encoding: chunked`.
        case chunked
        /// `transfer-encoding: gzip, chunked` (the client sent `TE: gzip`).
        case gzipChunked
    }

    /// RFC 9112 §9.3: whether the connection persists, when the version's default is not meant.
    enum Connection: Equatable {
        case none
        /// `connection: close`.
        case close
        /// `connection: keep-alive` (to an HTTP/1.0 client).
        case keepAlive
    }

    var framing = Framing.none
    var connection = Connection.none
    /// An IMF-fixdate (RFC 9110 §5.6.7): 29 visible US-ASCII octets.
    var date: IMFFixdate?

    /// The octets the fields take on the wire, each `name: value CRLF`.
    var wireSize: Int {
        var size = 0
        switch framing {
        case .none: break
        case .contentLength(let length): size += Self.contentLengthPrefix.utf8CodeUnitCount + Self.digits(length) + 2
        case .chunked: size += Self.chunked.utf8CodeUnitCount
        case .gzipChunked: size += Self.gzipChunked.utf8CodeUnitCount
        }
        switch connection {
        case .none: break
        case .close: size += Self.close.utf8CodeUnitCount
        case .keepAlive: size += Self.keepAlive.utf8CodeUnitCount
        }
        if date != nil { size += Self.datePrefix.utf8CodeUnitCount + IMFFixdate.count + 2 }
        return size
    }

    /// Writes the fields; `writer` has `wireSize` octets of room for them.
    @inline(__always)
    func write(into writer: inout HTTP1HeadWriter) {
        switch framing {
        case .none: break
        case .contentLength(let length):
            writer.write(Self.contentLengthPrefix)
            writer.writeDecimal(length, digits: Self.digits(length))
            writer.writeCRLF()
        case .chunked: writer.write(Self.chunked)
        case .gzipChunked: writer.write(Self.gzipChunked)
        }
        switch connection {
        case .none: break
        case .close: writer.write(Self.close)
        case .keepAlive: writer.write(Self.keepAlive)
        }
        if let date {
            writer.write(Self.datePrefix)
            date.withUnsafeBytes { writer.write($0) }
            writer.writeCRLF()
        }
    }

    private static let contentLengthPrefix: StaticString = "content-length: "
    private static let chunked: StaticString = "transfer-encoding: chunked\r\n"
    private static let gzipChunked: StaticString = "transfer-encoding: gzip, chunked\r\n"
    private static let close: StaticString = "connection: close\r\n"
    private static let keepAlive: StaticString = "connection: keep-alive\r\n"
    private static let datePrefix: StaticString = "date: "
}

extension HTTP1AddedFields {
    /// The number of decimal digits of `value` (1 for 0).
    @inline(__always)
    static func digits(_ value: UInt64) -> Int {
        var count = 1
        var rest = value
        while rest >= 10 {
            rest /= 10
            count += 1
        }
        return count
    }
}

extension HTTP1HeadWriter {
    /// A constant's octets.
    @inline(__always)
    mutating func write(_ constant: StaticString) {
        write(UnsafeRawBufferPointer(start: constant.utf8Start, count: constant.utf8CodeUnitCount))
    }
}
