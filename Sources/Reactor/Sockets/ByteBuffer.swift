import Glibc

/// A growable byte buffer with a read index and a write index, for socket input: the kernel
/// writes into its free tail, parsers read its readable middle in place, and consumed bytes are
/// reclaimed by moving the rest down only when the tail runs out.
///
/// The storage is plain `malloc` memory, never zero-filled (the kernel overwrites what it reads
/// into; only `readerIndex..<writerIndex` is ever read), and shared copy-on-write between copies
/// of the value. An empty buffer owns no storage at all.
public struct ByteBuffer: Sendable {
    @usableFromInline var storage: ByteStorage?
    public private(set) var readerIndex = 0
    public private(set) var writerIndex = 0

    public init(capacity: Int = 0) {
        storage = capacity > 0 ? ByteStorage(capacity: capacity) : nil
    }

    public init(_ bytes: some Collection<UInt8>) {
        self.init()
        append(contentsOf: bytes)
    }

    /// Bytes ready to be read.
    public var readableBytes: Int { writerIndex - readerIndex }
    public var isEmpty: Bool { readerIndex == writerIndex }
    /// Bytes of storage held (readable, consumed or free).
    public var capacity: Int { storage?.capacity ?? 0 }

    /// Calls `body` with the readable bytes, in place.
    ///
    /// Inlinable: specialised in the caller, with no generic call, closure thunk or retain of
    /// its own (out of line it was some 60 instructions and a retain and release a call).
    @inlinable
    public func withUnsafeReadableBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let bytes = unsafeReadableBytes
        defer { _fixLifetime(self) }
        return try body(bytes)
    }

    /// The readable bytes, valid while this value (or whoever holds its storage) lives unchanged.
    @inlinable
    var unsafeReadableBytes: UnsafeRawBufferPointer {
        guard let storage else { return UnsafeRawBufferPointer(start: nil, count: 0) }
        return UnsafeRawBufferPointer(start: storage.base + readerIndex, count: readableBytes)
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
        guard isEmpty else { return }
        storage = nil
        readerIndex = 0
        writerIndex = 0
    }

    /// Removes and returns up to `count` readable bytes.
    public mutating func read(upTo count: Int) -> [UInt8] {
        let n = Swift.min(count, readableBytes)
        let bytes = withUnsafeReadableBytes { Array($0.prefix(n)) }
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
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let base = reserveWritable(bytes.count)
        memcpy(base + writerIndex, source, bytes.count)
        writerIndex += bytes.count
    }

    /// Puts bytes back in front of the readable ones (lua-http's `unget`).
    public mutating func prepend(contentsOf bytes: some Collection<UInt8>) {
        let count = bytes.count
        guard count > 0 else { return }
        let bytes = Array(bytes)
        if readerIndex < count || !isKnownUniquelyReferenced(&storage) {
            // No room in front (or shared storage): one new buffer, the put-back bytes first.
            let readable = readableBytes
            let fresh = ByteStorage(capacity: Swift.max(4096, count + readable))
            bytes.withUnsafeBytes { fresh.base.copyMemory(from: $0.baseAddress!, byteCount: count) }
            withUnsafeReadableBytes { old in
                if let from = old.baseAddress { (fresh.base + count).copyMemory(from: from, byteCount: readable) }
            }
            storage = fresh
            readerIndex = 0
            writerIndex = count + readable
            return
        }
        readerIndex -= count
        let start = readerIndex
        bytes.withUnsafeBytes { storage!.base.advanced(by: start).copyMemory(from: $0.baseAddress!, byteCount: count) }
    }

    /// Lets `body` write up to its buffer's size into the free tail (at least `minimum` bytes of
    /// room); `body` returns how many it wrote (negative: none).
    public mutating func writeWithUnsafeMutableBytes(
        minimumWritableBytes minimum: Int, _ body: (UnsafeMutableRawBufferPointer) -> Int
    ) -> Int {
        let base = reserveWritable(minimum)
        let room = storage!.capacity - writerIndex
        let written = body(UnsafeMutableRawBufferPointer(start: base + writerIndex, count: room))
        if written > 0 { writerIndex += written }
        return written
    }

    /// Makes room for `count` more bytes after `writerIndex` in storage this value owns alone;
    /// returns the storage's base address.
    private mutating func reserveWritable(_ count: Int) -> UnsafeMutableRawPointer {
        let readable = readableBytes
        // Uniqueness first: binding `storage` to a name would hold a second reference.
        if isKnownUniquelyReferenced(&storage), let existing = storage {
            if existing.capacity - writerIndex >= count { return existing.base }
            if readerIndex > 0 && existing.capacity - readable >= count {
                // Enough room once the consumed bytes are reclaimed: move the rest down.
                memmove(existing.base, existing.base + readerIndex, readable)
                readerIndex = 0
                writerIndex = readable
                return existing.base
            }
        }
        var capacity = Swift.max(storage?.capacity ?? 0, 1024)
        while capacity < readable + count { capacity *= 2 }
        // One allocation and one copy of the unconsumed bytes (never element by element).
        let fresh = ByteStorage(capacity: capacity)
        if let old = storage, readable > 0 { memcpy(fresh.base, old.base + readerIndex, readable) }
        storage = fresh
        readerIndex = 0
        writerIndex = readable
        return fresh.base
    }
}

extension ByteBuffer {
    /// Makes the readable bytes the first `count` bytes of `storage` (this buffer holds none),
    /// shared with its lender (a reactor's receive scratch) until `stopBorrowing` or a write
    /// copies them out.
    mutating func borrow(_ storage: ByteStorage, count: Int) {
        self.storage = storage
        readerIndex = 0
        writerIndex = count
    }

    /// Ends a borrow of the storage `lent` identifies: what is still readable moves into storage
    /// of its own (none when nothing is). A buffer on other storage is left alone.
    mutating func stopBorrowing(_ lent: ObjectIdentifier) {
        guard let storage, ObjectIdentifier(storage) == lent else { return }
        if isEmpty {
            releaseStorageIfEmpty()
            return
        }
        let readable = readableBytes
        let own = ByteStorage(capacity: Swift.max(readable, 1024))
        own.base.copyMemory(from: storage.base + readerIndex, byteCount: readable)
        self.storage = own
        readerIndex = 0
        writerIndex = readable
    }
}

/// `malloc`ed bytes with no initialization: `ByteBuffer`'s storage.
@usableFromInline
final class ByteStorage: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { base.deallocate() }
}
