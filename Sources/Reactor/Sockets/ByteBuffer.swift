import Glibc

/// A growable byte buffer with a read index and a write index, for socket input: the kernel
/// writes into its free tail, parsers read its readable middle in place, and consumed bytes are
/// reclaimed by moving the rest down only when the tail runs out.
public struct ByteBuffer: Sendable {
    private var storage: [UInt8]
    public private(set) var readerIndex = 0
    public private(set) var writerIndex = 0

    public init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    public init(_ bytes: some Collection<UInt8>) {
        storage = Array(bytes)
        writerIndex = storage.count
    }

    /// Bytes ready to be read.
    public var readableBytes: Int { writerIndex - readerIndex }
    public var isEmpty: Bool { readerIndex == writerIndex }

    /// Calls `body` with the readable bytes, in place.
    public func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeBytes {
            try body(UnsafeRawBufferPointer(rebasing: $0[readerIndex..<writerIndex]))
        }
    }

    /// Marks `count` readable bytes as consumed.
    public mutating func consume(_ count: Int) {
        precondition(count >= 0 && count <= readableBytes, "consumed more than is readable")
        readerIndex += count
        if readerIndex == writerIndex {
            readerIndex = 0
            writerIndex = 0
        }
    }

    /// Frees the storage when nothing is readable, so an idle connection holds no receive buffer
    /// (the next read allocates one again).
    public mutating func releaseStorageIfEmpty() {
        guard isEmpty && !storage.isEmpty else { return }
        storage = []
        readerIndex = 0
        writerIndex = 0
    }

    /// Removes and returns up to `count` readable bytes.
    public mutating func read(upTo count: Int) -> [UInt8] {
        let n = Swift.min(count, readableBytes)
        let bytes = Array(storage[readerIndex..<readerIndex + n])
        consume(n)
        return bytes
    }

    /// The offset (from the first readable byte) of the first `byte`, if any.
    public func firstIndex(of byte: UInt8, from start: Int = 0) -> Int? {
        guard start < readableBytes else { return nil }
        return withUnsafeReadableBytes { raw -> Int? in
            guard let base = raw.baseAddress else { return nil }
            guard let hit = memchr(base + start, Int32(byte), raw.count - start) else { return nil }
            return UnsafeRawPointer(hit) - base
        }
    }

    /// Appends bytes after the readable ones.
    public mutating func append(contentsOf bytes: some Collection<UInt8>) {
        let copied: Void? = bytes.withContiguousStorageIfAvailable { append(UnsafeRawBufferPointer($0)) }
        if copied == nil { Array(bytes).withUnsafeBytes { append($0) } }
    }

    /// Appends raw bytes after the readable ones.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        reserveWritable(bytes.count)
        let start = writerIndex
        storage.withUnsafeMutableBytes {
            UnsafeMutableRawBufferPointer(rebasing: $0[start...]).copyMemory(from: bytes)
        }
        writerIndex += bytes.count
    }

    /// Puts bytes back in front of the readable ones (lua-http's `unget`).
    public mutating func prepend(contentsOf bytes: some Collection<UInt8>) {
        let count = bytes.count
        guard count > 0 else { return }
        if readerIndex < count {
            let rest = Array(storage[readerIndex..<writerIndex])
            storage =
                Array(bytes) + rest
                + [UInt8](repeating: 0, count: Swift.max(4096, storage.count - rest.count))
            readerIndex = 0
            writerIndex = count + rest.count
            return
        }
        readerIndex -= count
        let start = readerIndex
        storage.withUnsafeMutableBytes { raw in
            UnsafeMutableRawBufferPointer(rebasing: raw[start..<start + count]).copyBytes(from: bytes)
        }
    }

    /// Lets `body` write up to its buffer's size into the free tail (at least `minimum` bytes of
    /// room); `body` returns how many it wrote (negative: none).
    public mutating func writeWithUnsafeMutableBytes(
        minimumWritableBytes minimum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Int {
        reserveWritable(minimum)
        let start = writerIndex
        let written = storage.withUnsafeMutableBytes {
            body(UnsafeMutableRawBufferPointer(rebasing: $0[start...]))
        }
        if written > 0 { writerIndex += written }
        return written
    }

    private mutating func reserveWritable(_ count: Int) {
        if storage.count - writerIndex >= count { return }
        let readable = readableBytes
        if readerIndex > 0 && storage.count - readable >= count {
            // Enough room once the consumed bytes are reclaimed: move the rest down.
            let from = readerIndex
            storage.withUnsafeMutableBytes { raw in
                let base = raw.baseAddress!
                memmove(base, base + from, readable)
            }
        } else {
            var capacity = Swift.max(storage.count, 1024)
            while capacity < readable + count { capacity *= 2 }
            // One allocation and one copy of the unconsumed bytes (never element by element).
            let from = readerIndex
            storage = storage.withUnsafeBytes { old in
                [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
                    let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                    if readable > 0 { memcpy(base, old.baseAddress! + from, readable) }
                    memset(base + readable, 0, capacity - readable)
                    initialized = capacity
                }
            }
        }
        readerIndex = 0
        writerIndex = readable
    }
}
