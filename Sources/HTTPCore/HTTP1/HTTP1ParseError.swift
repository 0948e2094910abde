/// Why the HTTP/1 parser rejected its input, and what a server should answer.
///
/// `status` is the response a server sends before closing the connection (RFC 9112 asks for a
/// close after every framing error, and the parser cannot resynchronise after any of these). For a
/// client parsing a response it only classifies the failure (a proxy would answer 502).
///
/// Status choices:
/// - 400 for every malformed message, including framing errors (RFC 9112 §6.3 items 4 and 5),
///   Host errors (RFC 9112 §3.2), whitespace before a colon (§5.1), obs-fold in a request (§5.2),
///   bare CR or LF (§2.2), an invalid chunk (§7.1) and a chunk size that does not fit in 64 bits.
/// - 414 for a request-target longer than `HTTP1Limits.maxStartLineLength` (RFC 9112 §3: a server
///   "MUST respond with a 414 (URI Too Long)").
/// - 431 for a header or trailer section over its size or field-count limit (RFC 6585 §5).
/// - 501 for a transfer coding the server does not understand (RFC 9112 §6.1: "SHOULD respond
///   with 501 (Not Implemented)") and for a method longer than the start-line limit (RFC 9112 §3).
/// - 505 for a major version other than 1 (`HTTP/2.0`, `HTTP/0.9`, `HTTP/5.6`): RFC 9110 §15.6.6
///   defines 505 for "the major version of HTTP that was used in the request message". A higher
///   *minor* version (`HTTP/1.2`) is not an error: it is processed as HTTP/1.1 (RFC 9110 §2.5).
public enum HTTP1ParseError: Error, Sendable, Hashable, CustomStringConvertible {
    // Start line.
    /// The method is empty or not a token.
    case invalidMethod(String)
    /// The request-target is empty or has a byte other than visible US-ASCII.
    case invalidRequestTarget(String)
    /// The HTTP-version is not `HTTP/` DIGIT `.` DIGIT followed by the right delimiter.
    case invalidVersion(String)
    /// A well-formed version whose major number is not 1.
    case unsupportedVersion(major: Int, minor: Int)
    /// The status code is not three digits from 100 to 999.
    case invalidStatusCode(String)
    /// The status line lacks the SP after the status code, or has a CTL in the reason phrase.
    case invalidStatusLine(String)
    /// The request-target makes the request line longer than the limit.
    case requestTargetTooLong(limit: Int)
    /// The method makes the request line longer than the limit.
    case methodTooLong(limit: Int)
    /// The request or status line is longer than the limit (for another reason than the above).
    case startLineTooLong(limit: Int)

    // Line structure.
    /// A CR not followed by LF in the start line, a field line, or the chunked framing.
    case bareCR
    /// An LF not preceded by CR where a line must end with CRLF.
    case bareLF
    /// A line starting with whitespace right after the start line (RFC 9112 §2.2).
    case whitespaceAfterStartLine
    /// An obs-fold line continuation in a request (RFC 9112 §5.2).
    case obsoleteLineFolding

    // Fields.
    /// A field name that is empty or has a non-token byte.
    case invalidFieldName(String)
    /// Whitespace between a field name and the colon (RFC 9112 §5.1).
    case whitespaceBeforeColon(String)
    /// A field line without a colon.
    case missingColon(String)
    /// A field value with NUL, DEL or another CTL (RFC 9110 §5.5); the associated value is the name.
    case invalidFieldValue(name: String)
    /// The header section is larger than the limit.
    case headerBlockTooLarge(limit: Int)
    /// The header section has more field lines than the limit.
    case tooManyFields(limit: Int)
    /// The interim (1xx) responses before one final response are larger, together, than the
    /// header section's limit (a client's error: RFC 9110 §15.2).
    case interimResponsesTooLarge(limit: Int)
    /// The trailer section is larger than the limit.
    case trailerBlockTooLarge(limit: Int)
    /// The trailer section has more field lines than the limit.
    case tooManyTrailerFields(limit: Int)

    // Host (RFC 9112 §3.2).
    /// An HTTP/1.1 request without a Host field.
    case missingHost
    /// A request with more than one Host field line.
    case multipleHosts
    /// A Host field value that is not a `uri-host [ ":" port ]`.
    case invalidHost(String)

    // Framing (RFC 9112 §6).
    /// A Content-Length value that is not a list of decimal numbers fitting in 64 bits.
    case invalidContentLength(String)
    /// Content-Length values that differ.
    case conflictingContentLengths(String, String)
    /// Both Content-Length and Transfer-Encoding (RFC 9112 §6.3 item 3).
    case contentLengthWithTransferEncoding
    /// A Transfer-Encoding value that is not a list of transfer codings, or applies chunked twice.
    case invalidTransferEncoding(String)
    /// A request whose last transfer coding is not chunked (RFC 9112 §6.3 item 4).
    case chunkedNotFinal(String)
    /// A request with a transfer coding the server does not implement (RFC 9112 §6.1).
    case unknownTransferCoding(String)
    /// More transfer codings than `HTTP1Limits.maxTransferCodings`.
    case tooManyTransferCodings(limit: Int)
    /// A request in HTTP/1.0 with Transfer-Encoding (RFC 9112 §6.1: the framing is faulty).
    case transferEncodingInHTTP10
    /// A response whose Transfer-Encoding names chunked other than once and last, or that is
    /// HTTP/1.0 with chunked: read until the close (RFC 9112 §6.3 item 4, §6.1), its body is still
    /// chunk-framed, which no decoding after the framing undoes.
    case faultyTransferEncoding(String)

    // Chunked body (RFC 9112 §7.1).
    /// The chunk size is missing or has a non-hex byte (including whitespace without an extension).
    case invalidChunkSize
    /// The chunk size has more than 16 hex digits (it would not fit in 64 bits).
    case chunkSizeTooLarge
    /// A chunk extension that does not follow the grammar.
    case invalidChunkExtension
    /// A chunk extension longer than the limit.
    case chunkExtensionTooLong(limit: Int)
    /// Chunk data not followed by CRLF.
    case missingChunkTerminator

    // Connection.
    /// The input ended inside a message.
    case unexpectedEOF
    /// A body delimited by the close ended with a TLS connection closed without close_notify:
    /// it may be cut short. RFC 9112 §9.8: such a response "is complete only if a valid closure
    /// alert has been received".
    case closedWithoutCloseNotify
    /// Input after a message that ends the connection (a `close` connection option, HTTP/1.0
    /// without keep-alive). RFC 9112 §9.6: a server "MUST NOT process any further requests".
    case dataAfterClose
    /// `parse` was called with input after `inputEnded()`.
    case dataAfterEnd

    /// The HTTP status code a server should answer with.
    public var status: Int {
        switch self {
        case .requestTargetTooLong: return 414
        case .headerBlockTooLarge, .tooManyFields, .trailerBlockTooLarge, .tooManyTrailerFields,
            .interimResponsesTooLarge:
            return 431
        case .unknownTransferCoding, .tooManyTransferCodings, .methodTooLong: return 501
        case .unsupportedVersion: return 505
        default: return 400
        }
    }

    public var description: String {
        switch self {
        case .invalidMethod(let method): return "invalid method: \"\(method)\""
        case .invalidRequestTarget(let target): return "invalid request-target: \"\(target)\""
        case .invalidVersion(let version): return "invalid HTTP version: \"\(version)\""
        case .unsupportedVersion(let major, let minor):
            return "unsupported HTTP version: HTTP/\(major).\(minor)"
        case .invalidStatusCode(let code): return "invalid status code: \"\(code)\""
        case .invalidStatusLine(let reason): return "invalid status line: \(reason)"
        case .requestTargetTooLong(let limit):
            return "request-target too long (request line over \(limit) bytes)"
        case .methodTooLong(let limit): return "method too long (request line over \(limit) bytes)"
        case .startLineTooLong(let limit): return "start line longer than \(limit) bytes"
        case .bareCR: return "bare CR (a CR not followed by LF)"
        case .bareLF: return "bare LF line terminator (lines must end with CRLF)"
        case .whitespaceAfterStartLine: return "whitespace between the start line and the first field"
        case .obsoleteLineFolding: return "obsolete line folding (obs-fold) is not accepted in requests"
        case .invalidFieldName(let name): return "invalid field name: \"\(name)\""
        case .whitespaceBeforeColon(let name):
            return "whitespace between field name \"\(name)\" and colon"
        case .missingColon(let line): return "field line without a colon: \"\(line)\""
        case .invalidFieldValue(let name):
            return "invalid character (CTL) in the value of field \"\(name)\""
        case .headerBlockTooLarge(let limit): return "header section larger than \(limit) bytes"
        case .tooManyFields(let limit): return "more than \(limit) header fields"
        case .interimResponsesTooLarge(let limit):
            return "interim (1xx) responses larger than \(limit) bytes in all before the final response"
        case .trailerBlockTooLarge(let limit): return "trailer section larger than \(limit) bytes"
        case .tooManyTrailerFields(let limit): return "more than \(limit) trailer fields"
        case .missingHost: return "HTTP/1.1 request without a Host field"
        case .multipleHosts: return "request with more than one Host field"
        case .invalidHost(let host): return "invalid Host: \"\(host)\""
        case .invalidContentLength(let value): return "invalid Content-Length: \"\(value)\""
        case .conflictingContentLengths(let first, let second):
            return "conflicting Content-Length values: \"\(first)\" and \"\(second)\""
        case .contentLengthWithTransferEncoding: return "both Content-Length and Transfer-Encoding"
        case .invalidTransferEncoding(let value): return "invalid Transfer-Encoding: \"\(value)\""
        case .chunkedNotFinal(let value):
            return "chunked is not the final transfer coding of the request: \"\(value)\""
        case .unknownTransferCoding(let coding): return "unknown transfer coding: \"\(coding)\""
        case .tooManyTransferCodings(let limit): return "more than \(limit) transfer codings"
        case .transferEncodingInHTTP10: return "Transfer-Encoding in an HTTP/1.0 request"
        case .faultyTransferEncoding(let value):
            return
                "faulty Transfer-Encoding in a response: \"\(value)\" (chunked must be the last coding, once, in HTTP/1.1)"
        case .invalidChunkSize: return "invalid chunk size"
        case .chunkSizeTooLarge: return "chunk size has more than 16 hex digits"
        case .invalidChunkExtension: return "invalid chunk extension"
        case .chunkExtensionTooLong(let limit): return "chunk extension longer than \(limit) bytes"
        case .missingChunkTerminator: return "chunk data not followed by CRLF"
        case .unexpectedEOF: return "unexpected end of input in the middle of a message"
        case .closedWithoutCloseNotify:
            return "the TLS connection closed without close_notify before the end of a body delimited by the close"
        case .dataAfterClose: return "data after the last message of the connection"
        case .dataAfterEnd: return "data after the end of input"
        }
    }
}
