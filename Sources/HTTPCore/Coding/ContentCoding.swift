internal import CZlib

/// The content codings this library can apply and remove (RFC 9110 §8.4.1).
public enum ContentCoding: String, Sendable, CaseIterable {
    /// RFC 1952 gzip (LZ77 with a CRC-32 trailer). `x-gzip` is the same coding (RFC 9110 §8.4.1.3).
    case gzip
    /// The zlib format (RFC 1950) around a deflate stream (RFC 1951). Decoders here also accept a
    /// bare deflate stream, which some servers send (`Inflater.Format.deflate`).
    case deflate
    /// No coding.
    case identity

    /// The coding named by `token`, compared case-insensitively (RFC 9110 §8.4.1: "all content
    /// codings are case-insensitive") after trimming spaces and tabs; nil for codings this library
    /// does not implement (`br`, `zstd`, `compress`, …).
    public init?(token: String) {
        var trimmed = Substring(token)
        while let c = trimmed.first, c == " " || c == "\t" { trimmed.removeFirst() }
        while let c = trimmed.last, c == " " || c == "\t" { trimmed.removeLast() }
        switch trimmed.lowercased() {
        case "gzip", "x-gzip": self = .gzip
        case "deflate": self = .deflate
        case "identity": self = .identity
        default: return nil
        }
    }

    /// The token to send (`gzip`, `deflate`, `identity`).
    public var token: String { rawValue }

    /// The codings listed in a `Content-Encoding` value, in the order they were applied
    /// (`"gzip, identity"` → `[.gzip, .identity]`; decode in reverse). Empty list elements are
    /// ignored (RFC 9110 §5.6.1). Nil when any coding is not one this library implements.
    public static func parseList(_ value: String) -> [ContentCoding]? {
        var result: [ContentCoding] = []
        for element in value.split(separator: ",", omittingEmptySubsequences: false) {
            if element.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            guard let coding = ContentCoding(token: String(element)) else { return nil }
            result.append(coding)
        }
        return result
    }

    /// A decoder for this coding (nil for `identity`), with the default output limit.
    public func makeInflater(maxOutput: Int = Inflater.defaultMaxOutput) -> Inflater? {
        switch self {
        case .gzip: return Inflater(format: .gzip, maxOutput: maxOutput)
        case .deflate: return Inflater(format: .deflate, maxOutput: maxOutput)
        case .identity: return nil
        }
    }

    /// An encoder for this coding (nil for `identity`).
    public func makeDeflater(level: Int = Deflater.defaultLevel) -> Deflater? {
        switch self {
        case .gzip: return Deflater(format: .gzip, level: level)
        case .deflate: return Deflater(format: .deflate, level: level)
        case .identity: return nil
        }
    }
}

/// Why encoding or decoding a content coding failed.
public enum ContentCodingError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input is not valid compressed data; the text is zlib's message (for example
    /// "incorrect header check", "invalid block type", "incorrect data check").
    case invalidData(String)
    /// `final: true` came before the compressed stream ended: the body was cut short.
    case truncated
    /// Decoding would produce more than `limit` bytes (the decompression-bomb guard,
    /// `Inflater.maxOutput`). Nothing beyond the limit was appended.
    case outputLimitExceeded(limit: Int)
    /// Bytes followed the end of a zlib or raw deflate stream (a gzip stream may instead be
    /// followed by further members, RFC 1952 §2.2).
    case trailingData
    /// The zlib stream needs a preset dictionary (FDICT, RFC 1950 §2.2), which HTTP never uses.
    case needsDictionary
    /// `process` was called again after the call with `final: true` had completed the stream.
    case finished
    /// zlib itself failed (for example out of memory); `code` is its return code.
    case zlib(code: Int32, message: String)

    public var description: String {
        switch self {
        case .invalidData(let message): return "invalid compressed data: \(message)"
        case .truncated: return "compressed data truncated: the stream did not end before the input did"
        case .outputLimitExceeded(let limit):
            return "decompressed size exceeds the limit of \(limit) bytes"
        case .trailingData: return "unexpected data after the end of the compressed stream"
        case .needsDictionary: return "compressed data needs a preset dictionary"
        case .finished: return "the coding stream has already finished"
        case .zlib(let code, let message): return "zlib error \(code): \(message)"
        }
    }
}

/// zlib's message for the last error on `stream`, or a description of `code`.
internal func zlibMessage(_ stream: UnsafeMutablePointer<z_stream>, _ code: Int32) -> String {
    if let msg = stream.pointee.msg { return String(cString: msg) }
    switch code {
    case Z_MEM_ERROR: return "out of memory"
    case Z_STREAM_ERROR: return "inconsistent stream state"
    case Z_VERSION_ERROR: return "incompatible zlib version"
    case Z_BUF_ERROR: return "no progress possible"
    default: return "error \(code)"
    }
}

/// Largest input slice given to zlib at once (`avail_in` is 32-bit).
internal let zlibMaxChunk = 1 << 30
/// Size of the buffer zlib writes output into before it is appended to the caller's array.
internal let zlibScratchSize = 32 * 1024
