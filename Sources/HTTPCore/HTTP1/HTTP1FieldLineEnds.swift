/// Where the straight pass over a request head (`HTTP1HeadScanner.scanWholeRequestHead`) found
/// the colon and the CR of each of the first `capacity` field lines, as offsets in the section, so
/// that pass 2 (`HTTP1FieldLines`) need not search for them again. Inline storage: no allocation.
/// Complete only when `count` is the section's field count; the octet machine records none.
struct HTTP1FieldLineEnds: Sendable, Equatable {
    static let capacity = 16

    /// Line k: the colon's offset in the low 32 bits, the CR's in the high 32 bits.
    private var ends: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    private var moreEnds: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    /// The number of lines recorded.
    private(set) var count = 0

    /// Records the next line's colon and CR, if there is room and they fit in 32 bits.
    @inline(__always)
    mutating func append(colon: Int, cr: Int) {
        guard count < Self.capacity, cr <= Int(UInt32.max) else { return }
        let value = UInt64(truncatingIfNeeded: colon) | UInt64(truncatingIfNeeded: cr) &<< 32
        if count < 8 {
            withUnsafeMutableBytes(of: &ends) { $0.storeBytes(of: value, toByteOffset: count &* 8, as: UInt64.self) }
        } else {
            withUnsafeMutableBytes(of: &moreEnds) {
                $0.storeBytes(of: value, toByteOffset: (count &- 8) &* 8, as: UInt64.self)
            }
        }
        count &+= 1
    }

    /// The colon and CR offsets of line `index` (below `count`).
    @inline(__always)
    subscript(index: Int) -> (colon: Int, cr: Int) {
        let value =
            index < 8
            ? withUnsafeBytes(of: ends) { $0.load(fromByteOffset: index &* 8, as: UInt64.self) }
            : withUnsafeBytes(of: moreEnds) { $0.load(fromByteOffset: (index &- 8) &* 8, as: UInt64.self) }
        return (Int(truncatingIfNeeded: value & 0xFFFF_FFFF), Int(truncatingIfNeeded: value &>> 32))
    }

    static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.count == rhs.count && (0..<lhs.count).allSatisfy { lhs[$0] == rhs[$0] }
    }
}
