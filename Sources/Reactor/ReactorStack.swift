/// A stack in memory of its own, for the reactor's per-request bookkeeping (sockets to flush,
/// spare output buffers): an `Array` stored in the reactor checked its buffer's uniqueness and
/// called into the runtime on every append and `popLast`, some 30 instructions each. Not
/// copyable; it frees its elements and memory when it goes away.
struct ReactorStack<Element>: ~Copyable {
    private var base: UnsafeMutablePointer<Element>
    private(set) var count = 0
    private var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 1)
        base = .allocate(capacity: self.capacity)
    }

    deinit {
        base.deinitialize(count: count)
        base.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    /// The element at `index` (below `count`), left in place.
    subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "ReactorStack index out of range")
        return base[index]
    }

    mutating func push(_ element: consuming Element) {
        if count == capacity { grow() }
        (base + count).initialize(to: element)
        count += 1
    }

    mutating func pop() -> Element? {
        guard count > 0 else { return nil }
        count -= 1
        return (base + count).move()
    }

    /// Drops every element, keeping the memory.
    mutating func removeAll() {
        base.deinitialize(count: count)
        count = 0
    }

    /// Trades contents with `other` (no element moves).
    mutating func swapContents(with other: inout ReactorStack<Element>) {
        swap(&base, &other.base)
        swap(&count, &other.count)
        swap(&capacity, &other.capacity)
    }

    @inline(never)
    private mutating func grow() {
        let larger = UnsafeMutablePointer<Element>.allocate(capacity: capacity * 2)
        larger.moveInitialize(from: base, count: count)
        base.deallocate()
        base = larger
        capacity *= 2
    }
}
