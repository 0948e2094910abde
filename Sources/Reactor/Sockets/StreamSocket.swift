internal import CLibev
import Glibc

/// A connected, non-blocking stream socket (TCP over IPv4/IPv6, or Unix) on a reactor, with
/// buffered reads and coalesced writes, shown two ways:
///
/// - **callbacks** (the core): set `readInterest` and `onReadable`, read from `input` in place
///   and `consume` what you used; `write` queues bytes that go out in as few syscalls as
///   possible at the end of the current step; `onDrained` says the queue is empty;
/// - **async** (tasks on the reactor): `read(upTo:)`, `readLine`, `readExactly`, `readToEnd`,
///   `unget`, `write`, `flush`, each with a `timeout` in seconds (nil: none).
///
/// Errors are sticky: after a read or write error, every call reports it.
///
/// Like everything on a reactor, a socket belongs to the reactor's thread; it is `Sendable` only
/// so that tasks on the reactor can carry it.
///
/// Its mutable state is `@exclusivity(unchecked)`: it is touched only on the reactor's thread
/// and no access spans a callback, and the runtime's exclusivity checks (about 90 instructions
/// each, some 90 per HTTP request across the reactor and HTTP/1 layers) were a sixth of a
/// request's user-space instructions. The compiler's static checks still apply.
public final class StreamSocket: @unchecked Sendable {
    public let reactor: Reactor
    @exclusivity(unchecked) public private(set) var fd: Int32
    @exclusivity(unchecked) private var watcher: IOWatcher?
    /// TLS (or another transport) between the fd and the plaintext buffers; nil for a plain
    /// socket, which reads and writes the fd itself (`PlainTransport`), with no dynamic call.
    @exclusivity(unchecked) var transport: (any SocketTransport)? {
        didSet { hasTransport = transport != nil }
    }
    /// `transport != nil`, read where loading the existential costs more than the answer.
    @exclusivity(unchecked) private var hasTransport = false

    /// Received bytes not consumed yet.
    ///
    /// Inlinable, like `isEOF` and `failure`: a reader in another module reads the stored
    /// buffer in place (through an out-of-line accessor it copied the buffer out, retaining
    /// its storage, for every access).
    @inlinable public var input: ByteBuffer {
        _read { yield receivedInput }
        _modify {
            yield &receivedInput
            // Reading paused at `maximumBufferedInput`: a consumer outside the reader (a timer,
            // a blocking job's completion) that makes room must get it going again.
            if readingPausedAtLimit { inputChangedWhileReadingPaused() }
        }
    }

    /// Read interest is off because `input` holds `maximumBufferedInput` bytes.
    @exclusivity(unchecked) @usableFromInline var readingPausedAtLimit = false

    @usableFromInline
    func inputChangedWhileReadingPaused() {
        guard receivedInput.readableBytes < maximumBufferedInput else { return }
        readingPausedAtLimit = false
        updateInterest()
    }
    /// Calls `body` with `input`'s readable bytes, in place; `body` must not change `input`.
    /// Cheaper than `input.withUnsafeReadableBytes` from another module, which copies the buffer
    /// out of the socket (a retain and a release of its storage): here the socket, alive for the
    /// call, holds the storage.
    @inlinable
    public func withUnsafeReadableInput<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let bytes = receivedInput.unsafeReadableBytes
        defer { _fixLifetime(self) }
        return try body(bytes)
    }
    /// `input`'s storage. Other modules access it through `input`'s inlined accessors, with
    /// no exclusivity check either.
    @exclusivity(unchecked) @usableFromInline var receivedInput = ByteBuffer()
    @exclusivity(unchecked) private var output = WriteQueue()
    /// The peer closed its side: no more input will arrive.
    @inlinable public var isEOF: Bool { peerFinished }
    @exclusivity(unchecked) @usableFromInline var peerFinished = false
    @inlinable public var failure: SocketError? { sticky }
    /// Whether a read or write failed (`failure != nil`, without copying the error).
    @inlinable public var hasFailed: Bool { sticky != nil }
    @exclusivity(unchecked) @usableFromInline var sticky: SocketError?
    public var isClosed: Bool { fd < 0 }

    /// Keep reading while no task waits for input (for callback users). Default false.
    ///
    /// Inlinable: a connection sets it from its reader after every request, where setting it
    /// only stores the flag (`notifyReadable` updates the interest once the reader returned).
    @inlinable public var readInterest: Bool {
        get { wantsReads }
        set {
            wantsReads = newValue
            if !notifying { updateInterest() }
        }
    }
    @exclusivity(unchecked) @usableFromInline var wantsReads = false
    /// Called on the reactor's thread when bytes arrived in `input`, or at EOF, or on error.
    public var onReadable: (() -> Void)? {
        get { seldom?.onReadable }
        set { if newValue != nil || seldom != nil { ensureSeldom().onReadable = newValue } }
    }
    /// Told instead of `onReadable` when set (a long-lived owner: no closure context). Held
    /// unowned: clear it (or close the socket) before the reader goes away.
    @exclusivity(unchecked) public unowned(safe) var reader: (any StreamSocketReader)?
    /// Called when every queued byte was handed to the kernel.
    public var onDrained: (() -> Void)? {
        get { seldom?.onDrained }
        set { if newValue != nil || seldom != nil { ensureSeldom().onDrained = newValue } }
    }

    /// How many bytes one `read(2)` asks for. Default 16 KiB.
    public var readChunkSize: Int {
        get { seldom?.readChunkSize ?? Seldom.defaultReadChunkSize }
        set { ensureSeldom().readChunkSize = newValue }
    }
    /// Reading pauses while `input` holds this many bytes nobody consumed (back-pressure).
    /// Default 1 MiB.
    public var maximumBufferedInput: Int {
        get { seldom?.maximumBufferedInput ?? Seldom.defaultMaximumBufferedInput }
        set { ensureSeldom().maximumBufferedInput = newValue }
    }
    /// Async `write` waits while more than this is queued. Default 1 MiB.
    public var writeHighWaterMark: Int {
        get { seldom?.writeHighWaterMark ?? Seldom.defaultWriteHighWaterMark }
        set { ensureSeldom().writeHighWaterMark = newValue }
    }

    /// What most sockets never set or use (a server's connection needs none of it until it
    /// closes): in a box made on first use, 64 bytes less per idle connection.
    final class Seldom {
        static let defaultReadChunkSize = 16 * 1024
        static let defaultMaximumBufferedInput = 1 << 20
        static let defaultWriteHighWaterMark = 1 << 20
        @exclusivity(unchecked) var onReadable: (() -> Void)?
        @exclusivity(unchecked) var onDrained: (() -> Void)?
        @exclusivity(unchecked) var readChunkSize = defaultReadChunkSize
        @exclusivity(unchecked) var maximumBufferedInput = defaultMaximumBufferedInput
        @exclusivity(unchecked) var writeHighWaterMark = defaultWriteHighWaterMark
        @exclusivity(unchecked) var readWaiters: [Suspension<Void>] = []
        @exclusivity(unchecked) var drainWaiters: [Suspension<Void>] = []
        @exclusivity(unchecked) var handshakeWaiters: [Suspension<Void>] = []
        /// `sendFile` waiting for room in the socket's buffer.
        @exclusivity(unchecked) var writableWaiters: [Suspension<Void>] = []
        @exclusivity(unchecked) var fileOctetsSent: UInt64 = 0
    }
    @exclusivity(unchecked) private var seldom: Seldom?
    private func ensureSeldom() -> Seldom {
        if let seldom { return seldom }
        let made = Seldom()
        seldom = made
        return made
    }
    private var hasReadWaiters: Bool { seldom.map { !$0.readWaiters.isEmpty } ?? false }
    /// Takes the tasks waiting for input (none without the box).
    private func takeReadWaiters() -> [Suspension<Void>] {
        guard let seldom, !seldom.readWaiters.isEmpty else { return [] }
        defer { seldom.readWaiters = [] }
        return seldom.readWaiters
    }
    /// Takes the tasks waiting for the queue to drain (none without the box).
    private func takeDrainWaiters() -> [Suspension<Void>] {
        guard let seldom, !seldom.drainWaiters.isEmpty else { return [] }
        defer { seldom.drainWaiters = [] }
        return seldom.drainWaiters
    }

    @exclusivity(unchecked) private var flushScheduled = false
    /// `sendFile` runs: the output is lent to a blocking-work thread (see there).
    @exclusivity(unchecked) var sendingFile = false
    @exclusivity(unchecked) private var shutdownWriteWhenDrained = false
    @exclusivity(unchecked) private var transportShutDown = false
    /// A TLS handshake is running: keep reading even if nobody waits for plaintext.
    @exclusivity(unchecked) var handshakeInProgress = false
    /// The reader (or `onReadable`) is running: `notifyReadable` updates the interest after it.
    @exclusivity(unchecked) @usableFromInline var notifying = false
    /// `ioReady` is running and still holds the reference it took (see there).
    @exclusivity(unchecked) private var callHoldsReference = false

    /// Adopts a connected socket fd (from `accept`, inetd, `SCM_RIGHTS`): makes it non-blocking
    /// and, for TCP, sets `TCP_NODELAY`. The socket now owns and will close the fd.
    public convenience init(adopting fd: Int32, on reactor: Reactor) {
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 && flags & O_NONBLOCK == 0 { _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK) }
        self.init(nonBlocking: fd, isTCP: Socket.localName(fd).family != AF_UNIX, on: reactor)
    }

    /// Adopts a connected fd that is already non-blocking and whose kind the caller knows
    /// (`accept4(SOCK_NONBLOCK)` on a listener, `Socket.make`): no `fcntl` or `getsockname` per
    /// connection.
    init(nonBlocking fd: Int32, isTCP: Bool, on reactor: Reactor) {
        self.fd = fd
        self.reactor = reactor
        if isTCP { Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
        watcher = IOWatcher(reactor: reactor, fd: fd, events: [], socket: self)
    }

    deinit {
        watcher?.cancel()
        if fd >= 0 { Glibc.close(fd) }
    }

    // MARK: Readiness

    /// Whether to read; notes in `readingPausedAtLimit` that only a full `input` stops it.
    @inline(__always)
    private var wantsInput: Bool {
        guard (wantsReads || hasReadWaiters || handshakeInProgress) && !peerFinished && sticky == nil else {
            return false
        }
        if receivedInput.readableBytes < maximumBufferedInput { return true }
        readingPausedAtLimit = true
        return false
    }

    /// Bytes queued for the kernel, including what the transport holds (TLS encrypts all that is
    /// queued at once: what waits is then ciphertext).
    public var pendingOutputBytes: Int {
        if hasTransport { return pendingOutputBytesWithTransport() }
        return output.count
    }

    /// Out of line (a tail call), so that a plain socket's `pendingOutputBytes` needs no stack
    /// frame: it is read for every request.
    @inline(never)
    private func pendingOutputBytesWithTransport() -> Int {
        output.count + (transport?.queuedOutputBytes ?? 0)
    }
    /// Something can be written now (for TLS: ciphertext, or plaintext the handshake lets out).
    @inline(__always)
    private var hasSendableOutput: Bool {
        guard let transport else { return !output.isEmpty }
        return transport.hasOutputToSend(plaintextQueued: !output.isEmpty)
    }
    /// Something is still on its way out, sendable now or not.
    private var hasOutstandingOutput: Bool {
        !output.isEmpty || transport?.hasOutputToSend(plaintextQueued: false) == true
    }

    @usableFromInline
    func updateInterest() {
        guard let watcher else { return }
        var events: PollEvents = []
        if wantsInput { events.insert(.read) }
        if !flushScheduled && sticky == nil && hasSendableOutput { events.insert(.write) }
        watcher.events = events
    }

    /// libev says the fd is ready. A reader may drop every other reference to the socket, so the
    /// call holds one of its own; a flush scheduled meanwhile takes that one over
    /// (`scheduleFlush`): a request answered from its reader costs one retain and one release
    /// of the socket, not two of each.
    @inline(__always)
    static func ioReady(_ socket: Unmanaged<StreamSocket>, _ ready: PollEvents) {
        _ = socket.retain()
        let stillHeld = socket._withUnsafeGuaranteedRef { socket in
            socket.callHoldsReference = true
            if ready.contains(.write) { socket.flushNow() }
            if ready.contains(.read) { socket.receive() }
            defer { socket.callHoldsReference = false }
            return socket.callHoldsReference
        }
        if stillHeld { socket.release() }
    }

    /// Reads what the kernel has for this socket now, without waiting, as a readable event does
    /// (input, EOF or an error reach `input`, `isEOF`, `failure` and the reader): for an
    /// owner about to use a socket whose reactor may not have stepped since the peer wrote or
    /// closed, such as an idle client connection a task reuses after running on without
    /// awaiting. One `recv` when nothing came. On the reactor's thread, not from inside the
    /// reader's own callback.
    public func receiveAvailable() {
        guard fd >= 0, !peerFinished, sticky == nil, !notifying,
            receivedInput.readableBytes < maximumBufferedInput
        else { return }
        receive()
    }

    /// Reads what the kernel has (a few chunks at most, to stay fair to other sockets).
    private func receive() {
        var progressed = false
        // The reactor's scratch, if `input` may be borrowing it. Not a reference: the reactor
        // checks that nobody else holds the scratch before lending it again.
        var lent: ObjectIdentifier?
        // The reader has run (or will not): what it left moves out of the scratch.
        defer { if let lent { receivedInput.stopBorrowing(lent) } }
        reading: for _ in 0..<4 {
            guard fd >= 0 else { return }
            if let lent { receivedInput.stopBorrowing(lent) }
            let outcome: ReceiveOutcome
            if let transport {
                outcome = transport.receive(
                    fd: fd, into: &receivedInput, chunkSize: readChunkSize, scratch: reactor.unsharedReceiveScratch())
            } else {
                outcome = PlainTransport.receive(fd: fd, into: &receivedInput, chunkSize: readChunkSize, lent: &lent) {
                    reactor.unsharedReceiveScratch()
                }
            }
            switch outcome {
            case .received(let drained):
                progressed = true
                if drained || receivedInput.readableBytes >= maximumBufferedInput { break reading }
            case .wouldBlock:
                break reading
            case .endOfStream:
                peerFinished = true
                progressed = true
                break reading
            case .failed(let error):
                sticky = error
                progressed = true
                break reading
            }
        }
        // TLS: reading may have made output (handshake records, or plaintext it now lets out).
        // A plain socket's queue is flushed already or waits for the fd to become writable.
        if transport != nil && hasSendableOutput { scheduleFlush() }
        // `notifyReadable` updates the interest once the reader ran.
        if progressed { notifyReadable() } else { updateInterest() }
    }

    private func notifyReadable() {
        if let seldom, !seldom.readWaiters.isEmpty {
            for waiter in takeReadWaiters() { waiter.resume(returning: ()) }
        }
        let nested = notifying
        notifying = true
        if let reader { reader.socketReadable(self) } else { seldom?.onReadable?() }
        notifying = nested
        // A reader that answered scheduled a flush, which updates the interest at the end of
        // this step, before libev polls again.
        if !flushScheduled { updateInterest() }
    }

    // MARK: Writing

    /// Queues bytes; they go out at the end of this step (coalesced with other writes).
    public func write(_ bytes: [UInt8]) {
        assert(!sendingFile, "StreamSocket: a write while sendFile runs (its output is lent to the send)")
        guard fd >= 0, failure == nil else { return }
        adoptSpareOutputBuffer()
        output.append(bytes)
        scheduleFlush()
    }

    public func write(_ string: String) { write(Array(string.utf8)) }

    /// The reactor's `now()`, without a retain and release of the reactor (the socket holds
    /// it, so it stays alive for the call). Inlinable, like `Reactor.now()`: a connection reads
    /// it for every request.
    @inlinable
    public func reactorNow() -> UInt64 {
        Unmanaged.passUnretained(reactor)._withUnsafeGuaranteedRef { $0.now() }
    }

    /// Queues what `body` appends to the queue's buffer, in place (no intermediate array); if
    /// `body` throws, nothing it appended is sent. `body` runs even on a closed or failed socket
    /// (what it writes is then dropped, as `write` drops bytes), so callers' state stays the same.
    ///
    /// Inlinable, so that the caller's module specialises it for `E` around a call that is not
    /// generic (the unspecialised generic path cost some 30 instructions more a call).
    @inlinable
    public func write<E: Error>(serializing body: (inout [UInt8]) throws(E) -> Void) throws(E) {
        var failure: E?
        writeUnlessRefused { buffer in
            do throws(E) {
                try body(&buffer)
                return true
            } catch {
                failure = error
                return false
            }
        }
        if let failure { throw failure }
    }

    /// `write(serializing:)`'s work: `body` returns false to take back what it appended.
    @usableFromInline
    func writeUnlessRefused(_ body: (inout [UInt8]) -> Bool) {
        assert(!sendingFile, "StreamSocket: a write while sendFile runs (its output is lent to the send)")
        guard fd >= 0, sticky == nil else {
            var dropped: [UInt8] = []
            _ = body(&dropped)
            return
        }
        adoptSpareOutputBuffer()
        output.appendUnlessRefused(body)
        if !output.isEmpty { scheduleFlush() }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) {
        assert(!sendingFile, "StreamSocket: a write while sendFile runs (its output is lent to the send)")
        guard fd >= 0, failure == nil else { return }
        adoptSpareOutputBuffer()
        output.append(bytes)
        scheduleFlush()
    }

    /// The queued output, as one array (`sendFile` sends it before the file); the queue is
    /// left empty.
    func takeQueuedOutput() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(output.count)
        output.takeAll { bytes.append(contentsOf: $0) }
        return bytes
    }

    /// `sendFile`'s bookkeeping in the rarely used box (the file octets sent, the task waiting for
    /// room), and the failure it ran into, told as a failed write is told.
    var fileSendState: Seldom { ensureSeldom() }
    var fileOctetsSentSoFar: UInt64 { seldom?.fileOctetsSent ?? 0 }
    /// A `sendFile` waits for room in the socket's buffer.
    var awaitsWritable: Bool { seldom.map { !$0.writableWaiters.isEmpty } ?? false }
    func fileSendFailed(_ error: SocketError) {
        // What the peer sent before it went away (a server's early answer to a request whose
        // body was going out) is read first: once the socket has failed it reads no more.
        receiveAvailable()
        sticky = error
        sendingFile = false
        flushNow()
        notifyReadable()
    }

    /// An empty queue writes into a buffer another socket gave back to the reactor, if any.
    @inline(__always)
    private func adoptSpareOutputBuffer() {
        if output.needsStorage, let spare = reactor.takeOutputBuffer() { output.adoptSpareStorage(spare) }
    }

    @inline(__always)
    func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        // The reactor holds the socket until its queued bytes were tried: with the reference
        // `ioReady` holds for the running call, if this is one, else with a new one.
        let reference = Unmanaged.passUnretained(self)
        if callHoldsReference {
            callHoldsReference = false
        } else {
            _ = reference.retain()
        }
        reactor.scheduleFlush(reference)
    }

    /// The flush `scheduleFlush` asked for.
    func scheduledFlush() {
        flushScheduled = false
        flushNow()
    }

    /// Hands queued bytes to the kernel now, as far as it takes them.
    public func flushNow() {
        guard fd >= 0 else { return }
        if failure == nil {
            let outcome: SendOutcome
            if let transport {
                outcome = transport.send(fd: fd, from: &output)
            } else {
                outcome = PlainTransport.send(fd: fd, from: &output)
            }
            switch outcome {
            case .done, .wouldBlock: break
            case .failed(let error):
                // What the peer sent before it went away (a server's answer to a request whose
                // body was still going out, which it then reset) is read first, as
                // `fileSendFailed` does: once the socket has failed it reads no more, and the
                // kernel still holds those octets.
                receiveAvailable()
                sticky = error
                notifyReadable()
            }
        }
        if let spare = output.takeSpareStorage() { reactor.recycleOutputBuffer(spare) }
        if !hasOutstandingOutput || failure != nil { drained() }
        updateInterest()
    }

    /// Told every time the queue drained: a socket with no waiters, `onDrained` or half-close
    /// pending (a server's connection answering requests) only checks that. Out of line, and
    /// so small: inlined, or with the work below in it, the optimiser stopped inlining the
    /// queue's write into the end-of-step flush (some 15 and 90 instructions a request more).
    @inline(never)
    private func drained() {
        if seldom != nil || shutdownWriteWhenDrained { drainedSlowly() }
    }

    @inline(never)
    private func drainedSlowly() {
        if let seldom, !seldom.drainWaiters.isEmpty {
            for waiter in takeDrainWaiters() { waiter.resume(returning: ()) }
        }
        // During `sendFile` the queue is empty but the file is not out: the FIN waits for it
        // (`fileSendEnded` flushes again), or the peer would get a truncated body.
        if shutdownWriteWhenDrained && failure == nil && !sendingFile {
            if !transportShutDown {
                // TLS: close_notify goes out after the data and before the FIN.
                transportShutDown = true
                transport?.shutdown()
                if hasOutstandingOutput {
                    scheduleFlush()
                    return
                }
            }
            shutdownWriteWhenDrained = false
            Glibc.shutdown(fd, Int32(SHUT_WR))
        }
        seldom?.onDrained?()
    }

    /// Half-close: sends FIN once everything queued is written. Reading goes on.
    public func shutdownWrite() {
        guard fd >= 0 else { return }
        shutdownWriteWhenDrained = true
        // During `sendFile` the FIN waits for the file's end (`fileSendEnded`).
        guard !sendingFile else { return }
        if !hasOutstandingOutput { drained() } else { scheduleFlush() }
    }

    /// Closes the fd now; queued output is dropped and waiting tasks get `SocketError.closed`. A
    /// TLS session gets a best-effort close_notify first (one non-blocking send), so that the
    /// peer can tell a clean close from a truncation.
    public func close() {
        guard fd >= 0 else { return }
        // A handshake in progress ends too: its completion and `waitForHandshake` hear of it.
        if handshakeInProgress { tlsTransport?.abandonHandshake(.closed) }
        if failure == nil && !transportShutDown {
            transportShutDown = true
            if let transport {
                transport.shutdown()
                var nothing = WriteQueue()
                _ = transport.send(fd: fd, from: &nothing)
            }
        }
        watcher?.cancel()
        watcher = nil
        if sendingFile { abandonFileSend() }
        Glibc.close(fd)
        fd = -1
        onReadable = nil
        reader = nil
        onDrained = nil
        let waiters = takeReadWaiters() + takeDrainWaiters()
        for waiter in waiters { waiter.resume(throwing: SocketError.closed) }
    }

    /// Closes as `close()` does, but as an abort: a TCP reset (`SO_LINGER` 0) instead of a FIN,
    /// and no TLS close_notify, so that the peer cannot take it for an orderly end (of a body
    /// delimited by the close, say). Queued output is dropped, and so is what the kernel did not
    /// send yet.
    public func closeWithReset() {
        guard fd >= 0 else { return }
        var option = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        transportShutDown = true
        close()
    }

    // MARK: Names

    public func localname() -> SocketName { fd >= 0 ? Socket.localName(fd) : .unspecified }
    public func peername() -> SocketName { fd >= 0 ? Socket.peerName(fd) : .unspecified }

    // MARK: Async reads and writes

    /// Up to `count` bytes; an empty array at EOF.
    public func read(upTo count: Int = 64 * 1024, timeout: Double? = nil) async throws -> [UInt8] {
        let deadline = Deadline(timeout)
        while true {
            if input.readableBytes > 0 { return input.read(upTo: count) }
            if isEOF { return [] }
            try await waitForInput("read", deadline)
        }
    }

    /// The next line without its LF or CRLF; nil at EOF. Throws `lineTooLong` past `maximumLength`.
    public func readLine(maximumLength: Int = 8192, timeout: Double? = nil) async throws -> String? {
        let deadline = Deadline(timeout)
        var scanned = 0
        while true {
            if let newline = input.firstIndex(of: UInt8(ascii: "\n"), from: scanned) {
                guard newline <= maximumLength else { throw SocketError.lineTooLong(limit: maximumLength) }
                var line = input.read(upTo: newline + 1)
                line.removeLast()
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            scanned = input.readableBytes
            guard scanned <= maximumLength else { throw SocketError.lineTooLong(limit: maximumLength) }
            if isEOF {
                return scanned == 0 ? nil : String(decoding: input.read(upTo: scanned), as: UTF8.self)
            }
            // A line longer than `maximumBufferedInput` (but within `maximumLength`): a plain
            // wait would never be woken, since reading stops there.
            try await waitForMoreInput("readLine", deadline: deadline)
        }
    }

    /// Exactly `count` bytes; `unexpectedEOF` if the peer closes first (what arrived stays in
    /// `input`).
    public func readExactly(_ count: Int, timeout: Double? = nil) async throws -> [UInt8] {
        let deadline = Deadline(timeout)
        while input.readableBytes < count {
            if isEOF { throw SocketError.unexpectedEOF("after \(input.readableBytes) of \(count) bytes") }
            // Past `maximumBufferedInput` a plain wait would never be woken: reading stops there.
            try await waitForMoreInput("readExactly", deadline: deadline)
        }
        return input.read(upTo: count)
    }

    /// Everything until the peer closes; throws once more than `limit` bytes arrived.
    public func readToEnd(limit: Int = 64 << 20, timeout: Double? = nil) async throws -> [UInt8] {
        let deadline = Deadline(timeout)
        let saved = maximumBufferedInput
        maximumBufferedInput = Swift.max(saved, limit + 1)
        defer { maximumBufferedInput = saved }
        while !isEOF {
            if input.readableBytes > limit { throw SocketError.tooLarge(limit: limit) }
            try await waitForInput("readToEnd", deadline)
        }
        guard input.readableBytes <= limit else { throw SocketError.tooLarge(limit: limit) }
        return input.read(upTo: input.readableBytes)
    }

    /// Puts bytes back in front of the input.
    public func unget(_ bytes: some Collection<UInt8>) {
        input.prepend(contentsOf: bytes)
    }

    /// Queues bytes and, when more than `writeHighWaterMark` is queued, waits until the kernel
    /// took enough (back-pressure).
    public func write(_ bytes: [UInt8], timeout: Double?) async throws {
        if let failure { throw failure }
        guard fd >= 0 else { throw SocketError.closed }
        write(bytes)
        if pendingOutputBytes > writeHighWaterMark { try await flush(timeout: timeout) }
    }

    /// Waits until every queued byte was handed to the kernel.
    public func flush(timeout: Double? = nil) async throws {
        let deadline = Deadline(timeout)
        while hasOutstandingOutput || sendingFile {
            if let failure { throw failure }
            guard fd >= 0 else { throw SocketError.closed }
            let remaining = try deadline.remaining("flush")
            try await reactor.suspend("flush", timeout: remaining) { (suspension: Suspension<Void>) in
                self.ensureSeldom().drainWaiters.append(suspension)
                // During `sendFile` the queue is lent to the send: its end flushes and tells the
                // waiters (`fileSendEnded`). A flush meanwhile found the queue empty, said it
                // drained, and woke this wait for another at once: the reactor spun until the
                // file's end, and a half-close asked for meanwhile went out in its middle.
                if !self.sendingFile { self.scheduleFlush() }
                return { [weak self] in self?.seldom?.drainWaiters.removeAll { $0 === suspension } }
            }
        }
        if let failure { throw failure }
    }

    /// Waits until the TLS handshake that the callback `startTLS` started has finished; returns
    /// at once when none is running. Throws the handshake's failure (or the socket's), or
    /// `ReactorError.timedOut` after `timeout` seconds (nil: no limit).
    public func waitForHandshake(timeout: Double? = nil) async throws {
        if handshakeInProgress {
            try await reactor.suspend("TLS handshake with \(peername())", timeout: timeout) {
                (suspension: Suspension<Void>) in
                self.ensureSeldom().handshakeWaiters.append(suspension)
                return { [weak self] in self?.seldom?.handshakeWaiters.removeAll { $0 === suspension } }
            }
        }
        if let failure { throw failure }
    }

    /// The handshake finished: the tasks in `waitForHandshake` go on, or fail with `failure`.
    func handshakeFinished(_ failure: SocketError?) {
        guard let seldom, !seldom.handshakeWaiters.isEmpty else { return }
        let waiters = seldom.handshakeWaiters
        seldom.handshakeWaiters = []
        for waiter in waiters {
            if let failure { waiter.resume(throwing: failure) } else { waiter.resume(returning: ()) }
        }
    }

    /// For readers that parse `input` in place and leave an incomplete element there: suspends
    /// until more input, EOF or an error arrives (the error is thrown), or `deadline` passes
    /// (`ReactorError.timedOut(what)`). Returns at once at EOF. This wait reads on even when
    /// `input` holds `maximumBufferedInput` octets: the caller bounds what it lets accumulate.
    public func waitForMoreInput(_ what: String, deadline: Deadline) async throws {
        if isEOF { return }
        let saved = maximumBufferedInput
        maximumBufferedInput = Swift.max(saved, input.readableBytes + 1)
        defer { maximumBufferedInput = saved }
        try await waitForInput(what, deadline)
    }

    /// Suspends until input, EOF or an error arrives.
    private func waitForInput(_ what: String, _ deadline: Deadline) async throws {
        if let failure { throw failure }
        guard fd >= 0 else { throw SocketError.closed }
        let remaining = try deadline.remaining(what)
        try await reactor.suspend(what, timeout: remaining) { (suspension: Suspension<Void>) in
            self.ensureSeldom().readWaiters.append(suspension)
            self.updateInterest()
            return { [weak self] in
                self?.seldom?.readWaiters.removeAll { $0 === suspension }
                self?.updateInterest()
            }
        }
        if let failure { throw failure }
    }
}

/// What `StreamSocket.reader` is told: bytes arrived in `input`, or EOF, or an error.
public protocol StreamSocketReader: AnyObject {
    func socketReadable(_ socket: StreamSocket)
}
