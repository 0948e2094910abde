import HTTPCore

/// One random gzip/deflate coding of some octets, for tests of decoders: what randomized tests of
/// transfer and content codings apply, stage by stage.
public struct RandomCoding {
    /// The coding's name: `gzip`, `x-gzip` or `deflate`.
    public let name: String
    /// The coded octets.
    public var body: [UInt8]
    /// How they were made, for failure messages.
    public var label: String
    /// An octet was changed (which a decoder may legitimately not notice).
    public var changed = false

    /// `data` under `name` (deflate as zlib or raw deflate, level 0, 1, 6 or 9; a gzip body
    /// sometimes in two members). With `corrupt`, the output is cut short, gets octets after its
    /// end, or (zlib and gzip only) has an octet changed where a checksum covers it.
    public init(
        _ data: ArraySlice<UInt8>, name: String, corrupt: Bool, _ rng: inout SplitMix64
    ) throws {
        self.name = name
        let level = [0, 1, 6, 9][Int(rng.next() % 4)]
        let format: Deflater.Format = name != "deflate" ? .gzip : rng.next() % 2 == 0 ? .deflate : .rawDeflate
        label = "\(name)(\(format), \(level)"
        if format == .gzip && !corrupt && data.count > 1 && rng.next() % 4 == 0 {
            let cut = data.startIndex + Int(rng.next() % UInt64(data.count))
            body =
                try Deflater(format: .gzip, level: level).process(data[..<cut], final: true)
                + Deflater(format: .gzip, level: level).process(data[cut...], final: true)
            label += ", two members"
        } else {
            body = try Deflater(format: format, level: level).process(data, final: true)
        }
        if corrupt {
            switch format != .rawDeflate ? rng.next() % 3 : rng.next() % 2 {
            case 0:
                let kept = 1 + Int(rng.next() % UInt64(body.count - 1))
                label += ", cut to \(kept) of \(body.count)"
                body.removeLast(body.count - kept)
            case 1:
                let extra = (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                label += ", \(extra.count) octets after its end"
                body += extra
            default:
                // Past the gzip header's unchecked fields, past the zlib header.
                let checkedFrom = format == .gzip ? 10 : 2
                let at = checkedFrom + Int(rng.next() % UInt64(body.count - checkedFrom))
                label += ", octet \(at) of \(body.count) changed"
                body[at] ^= UInt8(1 + rng.next() % 255)
                changed = true
            }
        }
        label += ")"
    }
}
