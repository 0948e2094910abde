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
        if hasConnection {
            connectionClose = headers.hasToken("connection", "close")
            connectionKeepAlive = headers.hasToken("connection", "keep-alive")
        }
    }

    /// A `:status` of three digits from 100 to 999.
    var validStatus: Int? {
        guard let status, status.utf8.count == 3, let code = Int(status), (100...999).contains(code) else {
            return nil
        }
        return code
    }
}
