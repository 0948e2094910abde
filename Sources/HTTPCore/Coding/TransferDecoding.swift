/// Undoes the transfer codings of a message body other than `chunked` (which the parser removes):
/// one `Inflater` per coding, the last one applied undone first.
///
/// RFC 9112 §6.1: "If one or more encodings have been applied to a representation, the sender
/// that applied the encodings MUST generate a Transfer-Encoding header field that lists the
/// transfer codings in the order in which they were applied." So `gzip, deflate, chunked` is
/// inflated as deflate, then as gzip.
final class TransferDecoding {
    /// In the order they run: the last coding applied first.
    private let stages: [Inflater]

    /// The decoders for `codings` (in the order the sender applied them, without `chunked`).
    /// - Throws: `.unknownTransferCoding` for a coding other than gzip, x-gzip and deflate.
    init(codings: some BidirectionalCollection<String>) throws(HTTP1ParseError) {
        var stages: [Inflater] = []
        stages.reserveCapacity(codings.count)
        for coding in codings.reversed() {
            switch coding {
            case "gzip", "x-gzip": stages.append(Inflater(format: .gzip))
            case "deflate": stages.append(Inflater(format: .deflate))
            default: throw .unknownTransferCoding(coding)
            }
        }
        self.stages = stages
    }

    /// Decodes the next part of the body (`final`: its end) and appends what it decodes to.
    /// - Throws: `ContentCodingError` from the first stage that fails.
    func process(_ input: [UInt8], final: Bool, into output: inout [UInt8]) throws(ContentCodingError) {
        guard !stages.isEmpty else { return output.append(contentsOf: input) }
        var bytes = input
        for (index, stage) in stages.enumerated() {
            do {
                if index == stages.count - 1 {
                    try stage.process(bytes, final: final, into: &output)
                } else {
                    var next: [UInt8] = []
                    try stage.process(bytes, final: final, into: &next)
                    bytes = next
                }
            } catch {
                throw error as? ContentCodingError ?? .finished
            }
        }
    }
}
