/// A FIFO of bytes: appended at the tail, consumed from the head without shifting on every read.
/// Consumed space is reclaimed when the queue empties, or by one compaction once more than half of a large
/// buffer is dead.
struct TLSByteQueue {
    private var storage: [UInt8] = []
    private var head = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        storage.append(contentsOf: bytes)
    }

    /// Copies up to `maxCount` bytes to `destination`, consumes them, and returns how many there were.
    mutating func read(into destination: UnsafeMutableRawPointer, maxCount: Int) -> Int {
        let n = min(maxCount, count)
        guard n > 0 else { return 0 }
        storage.withUnsafeBytes { source in
            destination.copyMemory(from: source.baseAddress! + head, byteCount: n)
        }
        consume(n)
        return n
    }

    /// Calls `body` with the unconsumed bytes, one contiguous buffer, without copying.
    func withReadableBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows
        -> Result
    {
        try storage.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[head...])) }
    }

    /// Drops the first `n` unconsumed bytes.
    mutating func consume(_ n: Int) {
        precondition(n >= 0 && n <= count, "consuming more bytes than queued")
        head += n
        if head == storage.count {
            if storage.capacity > Self.retainedCapacity {
                storage = []
            } else {
                storage.removeAll(keepingCapacity: true)
            }
            head = 0
        } else if head >= Self.retainedCapacity && head >= storage.count / 2 {
            storage.removeSubrange(0..<head)
            head = 0
        }
    }

    /// Moves everything into `buffer` (appending) and empties the queue. When `buffer` is empty the storage
    /// is handed over without copying.
    mutating func moveAll(appendingTo buffer: inout [UInt8]) {
        guard !isEmpty else { return }
        if buffer.isEmpty && head == 0 {
            swap(&buffer, &storage)
        } else {
            withReadableBytes { buffer.append(contentsOf: $0) }
            storage.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// Larger buffers are released instead of kept once drained, so an idle connection holds little memory.
    private static let retainedCapacity = 64 * 1024
}
