/// Undoes the transfer codings of a message body other than `chunked` (which the parser removes):
/// one `Inflater` per coding, the last one applied undone first.
///
/// RFC 9112 §6.1: "If one or more encodings have been applied to a representation, the sender
/// that applied the encodings MUST generate a Transfer-Encoding header field that lists the
/// transfer codings in the order in which they were applied." So `gzip, deflate, chunked` is
/// inflated as deflate, then as gzip.
///
/// Coded octets are queued as they arrive (`append`) and decoded as the reader makes room
/// (`decode(into:budget:)`): a few KiB of deflate can stand for megabytes, so decoding each
/// arrival whole would let a small body fill memory before anyone read it. A single coding stops
/// at the budget and has no total limit (what it decodes to goes out as the reader takes it; the
/// buffering helpers apply `bodyLimit`). A chain decodes a KiB of coded input at a time, each
/// stage with `Inflater`'s 64 MiB cap, since an inner stage's output is decoded whole.
final class TransferDecoding {
    /// In the order they run: the last coding applied first.
    private let stages: [Inflater]
    /// Coded octets received and not decoded yet, from `backlogStart`.
    private var backlog: [UInt8] = []
    private var backlogStart = 0
    /// The coded body ended (`append(_:final: true)`).
    private(set) var inputEnded = false
    /// Everything was decoded, the end included.
    private(set) var isFinished = false

    /// A chain decodes this many coded octets at a time.
    static let sliceSize = 1024

    /// The decoders for `codings` (in the order the sender applied them, without `chunked`).
    /// - Throws: `.unknownTransferCoding` for a coding other than gzip, x-gzip and deflate.
    init(codings: some BidirectionalCollection<String>) throws(HTTP1ParseError) {
        var stages: [Inflater] = []
        stages.reserveCapacity(codings.count)
        let chained = codings.count > 1
        for coding in codings.reversed() {
            let limit = chained ? Inflater.defaultMaxOutput : Int.max
            switch coding {
            case "gzip", "x-gzip": stages.append(Inflater(format: .gzip, maxOutput: limit))
            case "deflate": stages.append(Inflater(format: .deflate, maxOutput: limit))
            default: throw .unknownTransferCoding(coding)
            }
        }
        self.stages = stages
    }

    /// Coded octets not decoded yet.
    var pendingInputCount: Int { backlog.count - backlogStart }

    /// Whether `decode` has something to do.
    var hasWork: Bool { !isFinished && (pendingInputCount > 0 || inputEnded) }

    /// Queues the next part of the coded body (`final`: its end).
    func append(_ input: [UInt8], final: Bool) {
        if backlogStart == backlog.count {
            backlog = input
            backlogStart = 0
        } else {
            backlog.append(contentsOf: input)
        }
        if final { inputEnded = true }
    }

    /// Drops what was not decoded (a body nobody will read).
    func dropBacklog() {
        backlog = []
        backlogStart = 0
    }

    /// Decodes queued octets, appending to `output`, until `output` grew by `budget` octets or
    /// more, or nothing is left to decode. Returns true once the end of the body was decoded.
    /// - Throws: `ContentCodingError` from the first stage that fails.
    func decode(into output: inout [UInt8], budget: Int) throws(ContentCodingError) -> Bool {
        let start = output.count
        if stages.count == 1 {
            let consumed: Int
            do {
                consumed = try backlog.withUnsafeBytes { bytes in
                    try stages[0].process(
                        UnsafeRawBufferPointer(rebasing: bytes[backlogStart...]), final: inputEnded,
                        into: &output, outputLimit: budget)
                }
            } catch {
                throw error as? ContentCodingError ?? .finished
            }
            backlogStart += consumed
            if pendingInputCount == 0 {
                backlog = []
                backlogStart = 0
                if inputEnded { isFinished = true }
            }
            return isFinished
        }
        while pendingInputCount > 0 && output.count - start < budget {
            let end = min(backlog.count, backlogStart + Self.sliceSize)
            let slice = Array(backlog[backlogStart..<end])
            backlogStart = end
            try process(slice, final: false, into: &output)
        }
        if pendingInputCount == 0 {
            backlog = []
            backlogStart = 0
            if inputEnded && !isFinished {
                try process([], final: true, into: &output)
                isFinished = true
            }
        }
        return isFinished
    }

    /// Runs `input` through every stage.
    private func process(_ input: [UInt8], final: Bool, into output: inout [UInt8]) throws(ContentCodingError) {
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
