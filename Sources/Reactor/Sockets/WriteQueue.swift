import Glibc

/// Bytes waiting to be written to a socket. Small writes are coalesced into one chunk; large
/// ones are queued as they are (no copy), and `write(to:)` hands the kernel up to 64 chunks in
/// one `writev`.
struct WriteQueue {
    private var chunks: [[UInt8]] = []
    /// How much of the first chunk was already written.
    private var headOffset = 0
    /// Whether the last chunk is a coalescing buffer of ours (safe to append to).
    private var lastIsCoalescing = false
    private(set) var count = 0

    static let coalesceBelow = 4096
    static let maximumIOVecs = 64

    var isEmpty: Bool { count == 0 }

    mutating func append(_ bytes: [UInt8]) {
        if bytes.count < WriteQueue.coalesceBelow {
            bytes.withUnsafeBytes { coalesce($0) }
        } else {
            count += bytes.count
            chunks.append(bytes)
            lastIsCoalescing = false
        }
    }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count < WriteQueue.coalesceBelow {
            coalesce(bytes)
        } else {
            count += bytes.count
            chunks.append(Array(bytes))
            lastIsCoalescing = false
        }
    }

    /// Copies a small write into the last coalescing buffer (or a new one).
    private mutating func coalesce(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        append { $0.append(contentsOf: bytes) }
    }

    /// Lets `body` append to the last coalescing buffer (or a new one) in place: a serializer
    /// writes straight into the queue, with no buffer of its own. What `body` appended before
    /// throwing is taken back.
    mutating func append<E: Error>(serializing body: (inout [UInt8]) throws(E) -> Void) throws(E) {
        // Moved out of the array while `body` runs, so appending never copies it.
        let reuse = lastIsCoalescing && !(chunks.count == 1 && headOffset > 0)
        var buffer = reuse ? chunks.removeLast() : []
        let before = buffer.count
        do {
            try body(&buffer)
        } catch {
            buffer.removeSubrange(before...)
            if reuse { chunks.append(buffer) }
            throw error
        }
        count += buffer.count - before
        if reuse || !buffer.isEmpty {
            chunks.append(buffer)
            lastIsCoalescing = true
        }
    }

    /// Writes as much as the kernel takes; returns bytes written, or -1 with `errno` set.
    mutating func write(to fd: Int32) -> Int {
        guard !isEmpty else { return 0 }
        let written: Int
        if chunks.count == 1 {
            // send(MSG_NOSIGNAL), not write: a peer that went away must give EPIPE, not SIGPIPE.
            written = chunks[0].withUnsafeBytes { raw in
                send(fd, raw.baseAddress! + headOffset, raw.count - headOffset, Int32(MSG_NOSIGNAL))
            }
        } else {
            var iovecs: [iovec] = []
            iovecs.reserveCapacity(Swift.min(chunks.count, WriteQueue.maximumIOVecs))
            written = WriteQueue.withIOVecs(chunks[...], headOffset: headOffset, into: &iovecs) {
                vectors in
                var vectors = vectors
                return vectors.withUnsafeMutableBufferPointer { buffer in
                    var message = msghdr()
                    message.msg_iov = buffer.baseAddress
                    message.msg_iovlen = buffer.count
                    return sendmsg(fd, &message, Int32(MSG_NOSIGNAL))
                }
            }
        }
        if written > 0 { consume(written) }
        return written
    }

    /// Removes `n` bytes from the front (after they were written elsewhere).
    mutating func consume(_ n: Int) {
        var remaining = n
        count -= n
        while remaining > 0 {
            let available = chunks[0].count - headOffset
            if remaining >= available {
                remaining -= available
                chunks.removeFirst()
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if chunks.isEmpty {
            // Nothing queued: hold no storage (an idle connection's queue costs nothing).
            chunks = []
            lastIsCoalescing = false
        }
    }

    /// Takes everything (for a TLS layer that encrypts it).
    mutating func takeAll(_ body: (UnsafeRawBufferPointer) -> Void) {
        for (index, chunk) in chunks.enumerated() {
            chunk.withUnsafeBytes { raw in
                body(UnsafeRawBufferPointer(rebasing: raw[(index == 0 ? headOffset : 0)...]))
            }
        }
        chunks = []
        headOffset = 0
        count = 0
        lastIsCoalescing = false
    }

    /// Builds iovecs over the chunks' storage (nested, so every pointer stays valid) and calls
    /// `body` with them.
    private static func withIOVecs(
        _ chunks: ArraySlice<[UInt8]>, headOffset: Int, into iovecs: inout [iovec],
        _ body: ([iovec]) -> Int
    ) -> Int {
        guard let first = chunks.first, iovecs.count < maximumIOVecs else { return body(iovecs) }
        return first.withUnsafeBytes { raw in
            let offset = iovecs.isEmpty ? headOffset : 0
            iovecs.append(
                iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress! + offset),
                    iov_len: raw.count - offset))
            return withIOVecs(chunks.dropFirst(), headOffset: headOffset, into: &iovecs, body)
        }
    }
}
