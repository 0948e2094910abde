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
/// arrival whole would let a small body fill memory before anyone read it. The last stage stops
/// at the budget; in a chain, each earlier stage decodes only when the stage after it has used up
/// what it had, at most `refillSize` octets at a time. So what a body holds in memory is bounded
/// by the budget plus a few dozen KiB per stage, however much it expands, and no stage has a total
/// limit (what it decodes to goes out as the reader takes it; the buffering helpers apply
/// `bodyLimit`).
final class TransferDecoding {
    /// In the order they run: the last coding applied first.
    private let stages: [Inflater]
    /// `decoded[i]`: what `stages[i]` decoded and `stages[i + 1]` has not taken yet.
    private let decoded: [StageOutput]
    /// `stageEnded[i]`: `stages[i]` decoded the end of its input.
    private var stageEnded: [Bool]
    /// Coded octets received and not decoded yet, from `backlogStart`.
    private var backlog: [UInt8] = []
    private var backlogStart = 0
    /// The coded body ended (`append(_:final: true)`).
    private(set) var inputEnded = false
    /// Everything was decoded, the end included.
    private(set) var isFinished = false

    /// An earlier stage of a chain decodes about this many octets each time the next runs dry.
    static let refillSize = 16 * 1024

    /// Octets between two stages, taken from `start`.
    private final class StageOutput {
        var bytes: [UInt8] = []
        var start = 0
        var count: Int { bytes.count - start }

        func consume(_ count: Int) {
            start += count
            if start == bytes.count {
                bytes.removeAll(keepingCapacity: true)
                start = 0
            }
        }

        func drop() {
            bytes = []
            start = 0
        }
    }

    /// The decoders for `codings` (in the order the sender applied them, without `chunked`).
    /// - Throws: `.unknownTransferCoding` for a coding other than gzip, x-gzip and deflate.
    init(codings: some BidirectionalCollection<String>) throws(HTTP1ParseError) {
        var stages: [Inflater] = []
        stages.reserveCapacity(codings.count)
        for coding in codings.reversed() {
            switch coding {
            case "gzip", "x-gzip": stages.append(Inflater(format: .gzip, maxOutput: .max))
            case "deflate": stages.append(Inflater(format: .deflate, maxOutput: .max))
            default: throw .unknownTransferCoding(coding)
            }
        }
        self.stages = stages
        decoded = (0..<max(stages.count - 1, 0)).map { _ in StageOutput() }
        stageEnded = Array(repeating: false, count: stages.count)
    }

    /// Octets received and not decoded to the end yet: the coded backlog, and what earlier stages
    /// of a chain decoded and later ones have not taken.
    var pendingInputCount: Int {
        var count = backlog.count - backlogStart
        for output in decoded { count += output.count }
        return count
    }

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
        for output in decoded { output.drop() }
    }

    /// Decodes queued octets, appending to `output`, until `output` grew by `budget` octets or
    /// more (by less than 32 KiB past it, one pass of zlib's buffer), or nothing is left to decode
    /// now. Returns true once the end of the body was decoded.
    /// - Throws: `ContentCodingError` from the first stage that fails.
    func decode(into output: inout [UInt8], budget: Int) throws(ContentCodingError) -> Bool {
        guard !stages.isEmpty else {
            output.append(contentsOf: backlog[backlogStart...])
            dropBacklog()
            isFinished = inputEnded
            return isFinished
        }
        let start = output.count
        while !isFinished && output.count - start < budget {
            guard try pull(stages.count - 1, into: &output, room: budget - (output.count - start)) else { break }
        }
        if backlogStart == backlog.count {
            backlog = []
            backlogStart = 0
        }
        return isFinished
    }

    /// Runs `stages[index]` on the input it has, appending at most about `room` octets to
    /// `output`; first, when that input is used up, has the stage before decode more of it.
    /// Returns whether anything moved (input taken, output made, an end reached).
    private func pull(_ index: Int, into output: inout [UInt8], room: Int) throws(ContentCodingError) -> Bool {
        guard !stageEnded[index] else { return false }
        var moved = false
        if index > 0, decoded[index - 1].count == 0, !stageEnded[index - 1] {
            moved = try pull(index - 1, into: &decoded[index - 1].bytes, room: Self.refillSize)
        }
        let inputEnds = index == 0 ? inputEnded : stageEnded[index - 1]
        let before = output.count
        let consumed: Int
        if index == 0 {
            guard backlogStart < backlog.count || inputEnds else { return moved }
            consumed = try run(stages[0], backlog, from: backlogStart, final: inputEnds, into: &output, room: room)
            backlogStart += consumed
            if inputEnds && backlogStart == backlog.count { stageEnded[0] = true }
        } else {
            let input = decoded[index - 1]
            guard input.count > 0 || inputEnds else { return moved }
            consumed = try run(
                stages[index], input.bytes, from: input.start, final: inputEnds, into: &output, room: room)
            input.consume(consumed)
            if inputEnds && input.count == 0 { stageEnded[index] = true }
        }
        if stageEnded[stages.count - 1] { isFinished = true }
        return moved || consumed > 0 || output.count > before || stageEnded[index]
    }

    /// `stage.process` on `bytes[start...]`: how many octets it took. With `final`, taking them
    /// all means the stage decoded its end (or it throws `.truncated`).
    private func run(
        _ stage: Inflater, _ bytes: [UInt8], from start: Int, final: Bool, into output: inout [UInt8], room: Int
    ) throws(ContentCodingError) -> Int {
        do {
            return try bytes.withUnsafeBytes { buffer in
                try stage.process(
                    UnsafeRawBufferPointer(rebasing: buffer[start...]), final: final, into: &output, outputLimit: room)
            }
        } catch {
            throw error as? ContentCodingError ?? .finished
        }
    }
}
