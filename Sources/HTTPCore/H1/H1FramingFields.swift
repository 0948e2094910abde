/// The fields of a handler's head that decide how the message is framed, found in one pass over
/// the fields (a response head used to be searched once per question, eight times or more).
struct H1FramingFields {
    /// The first `:status` value.
    var status: String?
    /// The first `content-length` value, and how many there are.
    var contentLength: String?
    var contentLengthCount = 0
    /// The first `transfer-encoding` value.
    var transferEncoding: String?
    var hasDate = false
    var hasContentEncoding = false
    /// Whether a `connection` field lists `close` / `keep-alive` (tokens, case-insensitive).
    var connectionClose = false
    var connectionKeepAlive = false

    init(_ headers: Headers) {
        var hasConnection = false
        for field in headers.fields {
            // Names are lower case (`Headers`); their length picks the one comparison to make.
            switch field.name.utf8.count {
            case 4:
                if field.name == "date" { hasDate = true }
            case 7:
                if status == nil && field.name == ":status" { status = field.value }
            case 10:
                if field.name == "connection" { hasConnection = true }
            case 14:
                if field.name == "content-length" {
                    if contentLength == nil { contentLength = field.value }
                    contentLengthCount += 1
                }
            case 16:
                if field.name == "content-encoding" { hasContentEncoding = true }
            case 17:
                if transferEncoding == nil && field.name == "transfer-encoding" { transferEncoding = field.value }
            default:
                break
            }
        }
        validStatus = Self.statusCode(status)
        if hasConnection {
            connectionClose = headers.hasToken("connection", "close")
            connectionKeepAlive = headers.hasToken("connection", "keep-alive")
        }
    }

    /// `status` when it is three digits from 100 to 999.
    private(set) var validStatus: Int?

    private static func statusCode(_ status: String?) -> Int? {
        guard var text = status, text.utf8.count == 3 else { return nil }
        return text.withUTF8 { octets -> Int? in
            var code = 0
            for octet in octets {
                let digit = Int(octet) &- 0x30
                guard digit >= 0 && digit <= 9 else { return nil }
                code = code &* 10 &+ digit
            }
            return code >= 100 ? code : nil
        }
    }
}
