import Glibc

/// Bytes waiting to be written to a socket. Small writes are coalesced into one chunk; large
/// ones are queued as they are (no copy), and `write(to:)` hands the kernel up to 64 chunks in
/// one `sendmsg`.
///
/// The oldest chunk is held apart from the rest: a typical response (head and a small body) is
/// one chunk, queued and sent without an array of chunks. An empty queue holds no storage.
struct WriteQueue {
    /// The oldest chunk; empty exactly when the queue is.
    private var first: [UInt8] = []
    /// The chunks after `first`, oldest first.
    private var rest: [[UInt8]] = []
    /// How much of `first` was already written.
    private var headOffset = 0
    /// Whether the last chunk is a coalescing buffer of ours (safe to append to).
    private var lastIsCoalescing = false
    private(set) var count = 0

    static let coalesceBelow = 4096
    static let maximumIOVecs = 64
    /// A new coalescing buffer reserves at least this much, so that a response head and a small
    /// body share one allocation. With the array's 32-byte header that is a 1,032-byte `malloc`,
    /// the largest that glibc serves from its per-thread cache: 1,024 (1,056 bytes) went to
    /// `_int_malloc` and cost some 160 instructions more a response.
    static let minimumCoalescingCapacity = 1000

    /// A drained coalescing buffer up to this capacity is kept for reuse (`takeSpareStorage`);
    /// a larger one is freed.
    static let maximumSpareCapacity = 16 * 1024

    var isEmpty: Bool { count == 0 }

    /// An empty queue's storage, for another queue to reuse: a drained coalescing buffer keeps
    /// its capacity until taken, so that a socket can give it to its reactor (`Reactor`'s spare
    /// output buffers) instead of freeing it and allocating another for the next response.
    mutating func takeSpareStorage() -> [UInt8]? {
        guard isEmpty, first.capacity > 0 else { return nil }
        var storage: [UInt8] = []
        swap(&storage, &first)
        return storage
    }

    /// Makes `storage` (empty, from `takeSpareStorage`) the buffer the next small write goes into.
    mutating func adoptSpareStorage(_ storage: [UInt8]) {
        assert(isEmpty && first.capacity == 0 && storage.isEmpty, "WriteQueue: adopting storage while in use")
        first = storage
    }

    /// Whether an empty queue has no buffer to write into.
    var needsStorage: Bool { isEmpty && first.capacity == 0 }

    mutating func append(_ bytes: [UInt8]) {
        if bytes.count < WriteQueue.coalesceBelow {
            bytes.withUnsafeBytes { coalesce($0) }
        } else {
            appendChunk(bytes)
        }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count < WriteQueue.coalesceBelow {
            coalesce(bytes)
        } else {
            appendChunk(Array(bytes))
        }
    }

    /// Queues a large write as a chunk of its own.
    private mutating func appendChunk(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        if isEmpty { first = bytes } else { rest.append(bytes) }
        count += bytes.count
        lastIsCoalescing = false
    }

    /// Copies a small write into the last coalescing buffer (or a new one).
    private mutating func coalesce(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        appendUnlessRefused {
            $0.append(contentsOf: bytes)
            return true
        }
    }

    /// Lets `body` append to the last coalescing buffer (or a new one) in place: a serializer
    /// writes straight into the queue, with no buffer of its own. When `body` returns false,
    /// what it appended is taken back (`StreamSocket.write(serializing:)`: it threw). `body`
    /// must not touch this queue.
    mutating func appendUnlessRefused(_ body: (inout [UInt8]) -> Bool) {
        if rest.isEmpty && (isEmpty || lastIsCoalescing && headOffset == 0) {
            // The common case, a response into an empty queue: `first`, in place.
            if isEmpty && first.capacity < WriteQueue.minimumCoalescingCapacity {
                first.reserveCapacity(WriteQueue.minimumCoalescingCapacity)
            }
            let before = first.count
            if !body(&first) { first.removeSubrange(before...) }
            count += first.count - before
            if count == 0 { first = [] } else { lastIsCoalescing = true }
            return
        }
        // A chunk partly written already or not ours (appending would keep its sent octets or
        // change the caller's array): a new coalescing buffer after it.
        let fresh = rest.isEmpty || !lastIsCoalescing
        if fresh {
            rest.append([])
            rest[rest.count - 1].reserveCapacity(WriteQueue.minimumCoalescingCapacity)
        }
        let last = rest.count - 1
        let before = rest[last].count
        if !body(&rest[last]) { rest[last].removeSubrange(before...) }
        let added = rest[last].count - before
        if fresh && added == 0 {
            rest.removeLast()
        } else {
            count += added
            lastIsCoalescing = true
        }
    }

    /// Writes as much as the kernel takes; returns bytes written, or -1 with `errno` set.
    mutating func write(to fd: Int32) -> Int {
        guard !isEmpty else { return 0 }
        let written: Int
        let offset = headOffset
        if rest.isEmpty {
            // send(MSG_NOSIGNAL), not write: a peer that went away must give EPIPE, not SIGPIPE.
            written = first.withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
        } else {
            written = first.withUnsafeBytes { raw in
                var iovecs: [iovec] = []
                iovecs.reserveCapacity(Swift.min(rest.count + 1, WriteQueue.maximumIOVecs))
                iovecs.append(
                    iovec(
                        iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset),
                        iov_len: raw.count - offset))
                return WriteQueue.withIOVecs(rest[...], into: &iovecs) { vectors in
                    var vectors = vectors
                    return vectors.withUnsafeMutableBufferPointer { buffer in
                        var message = msghdr()
                        message.msg_iov = buffer.baseAddress
                        message.msg_iovlen = buffer.count
                        return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                    }
                }
            }
        }
        if written > 0 { consume(written) }
        return written
    }

    /// Removes `n` bytes from the front (after they were written elsewhere).
    mutating func consume(_ n: Int) {
        count -= n
        if count == 0 {
            // Nothing queued: hold no storage (an idle connection's queue costs nothing), but
            // for a coalescing buffer of ours, which the socket hands on (`takeSpareStorage`).
            if rest.isEmpty && lastIsCoalescing && first.capacity <= WriteQueue.maximumSpareCapacity {
                first.removeAll(keepingCapacity: true)
            } else {
                first = []
            }
            if rest.capacity > 0 { rest = [] }
            headOffset = 0
            lastIsCoalescing = false
            return
        }
        var remaining = n
        while remaining > 0 {
            let available = first.count - headOffset
            if remaining >= available {
                remaining -= available
                first = rest.isEmpty ? [] : rest.removeFirst()
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
    }

    /// Takes everything (for a TLS layer that encrypts it).
    mutating func takeAll(_ body: (UnsafeRawBufferPointer) -> Void) {
        if !isEmpty {
            let offset = headOffset
            first.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            for chunk in rest { chunk.withUnsafeBytes { body($0) } }
        }
        first = []
        rest = []
        headOffset = 0
        count = 0
        lastIsCoalescing = false
    }

    /// Adds iovecs over the chunks' storage (nested, so every pointer stays valid) and calls
    /// `body` with them.
    private static func withIOVecs(
        _ chunks: ArraySlice<[UInt8]>, into iovecs: inout [iovec], _ body: ([iovec]) -> Int
    ) -> Int {
        guard let chunk = chunks.first, iovecs.count < maximumIOVecs else { return body(iovecs) }
        return chunk.withUnsafeBytes { raw in
            iovecs.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress!), iov_len: raw.count))
            return withIOVecs(chunks.dropFirst(), into: &iovecs, body)
        }
    }
}
