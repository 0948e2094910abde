/// The fields of a handler's head that decide how the message is framed, found in one pass over
/// the fields (a response head used to be searched once per question, eight times or more).
///
/// Plain data: numbers and flags, not the fields' strings, so that making, copying and dropping
/// it costs no reference counting. The rare error that quotes a field's text (an invalid
/// `content-length`, a `transfer-encoding` the library does not take) looks it up in the head.
struct H1FramingFields: Equatable {
    /// The handler's `content-length`.
    enum ContentLength: Equatable {
        case absent
        /// One field, `1*DIGIT` of at most 19 digits (RFC 9110 §8.6).
        case valid(UInt64)
        /// Not digits, too long, or more than one field.
        case invalid
    }

    /// The handler's first `transfer-encoding`.
    enum TransferEncoding: Equatable {
        case absent
        /// `chunked` (any case): a body of unknown length, which the framing decides on.
        case chunked
        /// Anything else: the library owns the transfer coding.
        case other
    }

    /// The first `:status` when it is three digits from 100 to 999.
    private(set) var validStatus: Int?
    private(set) var contentLength = ContentLength.absent
    private(set) var transferEncoding = TransferEncoding.absent
    private(set) var hasDate = false
    private(set) var hasContentEncoding = false
    /// Whether a `connection` field lists `close` / `keep-alive` (tokens, case-insensitive).
    private(set) var connectionClose = false
    private(set) var connectionKeepAlive = false

    init(_ headers: Headers) {
        var hasConnection = false
        var sawStatus = false
        var contentLengthCount = 0
        // In place: `for field in headers.fields` would copy (retain and release) both strings of
        // every field.
        headers.storage.withUnsafeBufferPointer { fields in
            for index in fields.indices {
                let field = fields.baseAddress! + index
                // Names are lower case (`Headers`); their length picks the one comparison to make.
                switch field.pointee.name.utf8.count {
                case 4:
                    if field.pointee.name == "date" { hasDate = true }
                case 7:
                    if !sawStatus && field.pointee.name == ":status" {
                        sawStatus = true
                        validStatus = Self.statusCode(field.pointee.value)
                    }
                case 10:
                    if field.pointee.name == "connection" { hasConnection = true }
                case 14:
                    if field.pointee.name == "content-length" {
                        contentLengthCount += 1
                        contentLength =
                            contentLengthCount == 1
                            ? Self.decimal(field.pointee.value).map { .valid($0) } ?? .invalid
                            : .invalid
                    }
                case 16:
                    if field.pointee.name == "content-encoding" { hasContentEncoding = true }
                case 17:
                    if transferEncoding == .absent && field.pointee.name == "transfer-encoding" {
                        transferEncoding = Self.isChunked(field.pointee.value) ? .chunked : .other
                    }
                default:
                    break
                }
            }
        }
        if hasConnection {
            connectionClose = headers.hasToken("connection", "close")
            connectionKeepAlive = headers.hasToken("connection", "keep-alive")
        }
    }

    /// Whether the handler set a `content-length`, valid or not.
    var hasContentLength: Bool { contentLength != .absent }

    /// Whether `coding` is `chunked`, in any case.
    private static func isChunked(_ coding: String) -> Bool {
        HTTP1Syntax.withUTF8(coding) { HTTP1Syntax.equalsLowercased($0, "chunked") }
    }

    /// `status` when it is three digits from 100 to 999.
    private static func statusCode(_ status: String) -> Int? {
        HTTP1Syntax.withUTF8(status) { octets -> Int? in
            guard octets.count == 3 else { return nil }
            var code = 0
            for octet in octets {
                guard HTTP1Syntax.isDigit(octet) else { return nil }
                code = code &* 10 &+ Int(octet &- 0x30)
            }
            return code >= 100 ? code : nil
        }
    }

    /// `1*DIGIT` of at most 19 digits, so that it fits in a UInt64; nil otherwise.
    private static func decimal(_ text: String) -> UInt64? {
        HTTP1Syntax.withUTF8(text) { digits -> UInt64? in
            guard !digits.isEmpty && digits.count <= 19 else { return nil }
            var value: UInt64 = 0
            for octet in digits {
                guard HTTP1Syntax.isDigit(octet) else { return nil }
                value = value &* 10 &+ UInt64(octet &- 0x30)
            }
            return value
        }
    }
}
