internal import CZlib

/// A streaming encoder to gzip, zlib or raw deflate data (zlib's deflate).
///
/// Each `process` call without `final` ends with a sync flush by default, so everything passed so
/// far can be decoded by the peer as soon as it arrives (what a streamed response needs); pass
/// `flush: false` to let zlib buffer for better compression. The call with `final: true` writes
/// the end of the stream (and the gzip or zlib trailer).
///
/// A class because zlib's `z_stream` must not move in memory; not thread-safe; frees zlib's
/// state when released.
public final class Deflater {
    /// What to produce.
    public enum Format: Sendable, Equatable {
        /// gzip (RFC 1952), for `Content-Encoding: gzip`.
        case gzip
        /// zlib-wrapped deflate (RFC 1950), which is what HTTP's `deflate` coding means.
        case deflate
        /// A bare deflate stream (RFC 1951), for WebSocket permessage-deflate.
        case rawDeflate
    }

    /// zlib's default compression level (6).
    public static let defaultLevel = 6

    public let format: Format
    public let level: Int
    public let windowBits: Int
    /// Uncompressed bytes consumed so far.
    public private(set) var totalInput = 0
    /// Compressed bytes produced so far.
    public private(set) var totalOutput = 0

    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutableBufferPointer<UInt8>
    private var initialized = false
    private var finished = false
    private var failure: ContentCodingError?

    /// - Parameters:
    ///   - level: 0 (store) to 9 (smallest); `-1` is zlib's default (6).
    ///   - windowBits: the window size as a power of two, 9 to 15 (32 KiB); smaller windows use
    ///     less memory and compress less (permessage-deflate negotiates it).
    /// - Precondition: `level` is in -1...9 and `windowBits` in 9...15 (programmer errors).
    public init(format: Format, level: Int = Deflater.defaultLevel, windowBits: Int = 15) {
        precondition((-1...9).contains(level), "Deflater: level \(level) is not in -1...9")
        precondition(
            (9...15).contains(windowBits), "Deflater: windowBits \(windowBits) is not in 9...15")
        self.format = format
        self.level = level
        self.windowBits = windowBits
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: zlibScratchSize)
    }

    deinit {
        if initialized { deflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Compresses `input` and appends the compressed bytes to `output`.
    ///
    /// - Parameters:
    ///   - final: end the stream after this input.
    ///   - flush: when not final, end with a sync flush (the default) so the output so far is
    ///     decodable on its own; `false` lets zlib hold data back until later calls.
    /// - Throws: `ContentCodingError.finished` after the final call; `.zlib` if zlib fails (out of
    ///   memory). After an error every later call throws it again.
    public func process(
        _ input: UnsafeRawBufferPointer, final: Bool, flush: Bool = true, into output: inout [UInt8]
    ) throws {
        if let failure { throw failure }
        if finished { throw ContentCodingError.finished }
        do {
            try initializeIfNeeded()
            try deflateAll(input, final: final, flush: flush, into: &output)
            if final { finished = true }
        } catch let error as ContentCodingError {
            failure = error
            throw error
        }
    }

    /// Compresses `input` and appends the compressed bytes to `output`. See the
    /// `UnsafeRawBufferPointer` variant.
    public func process(
        _ input: some Collection<UInt8>, final: Bool, flush: Bool = true, into output: inout [UInt8]
    ) throws {
        let done: Void? = try input.withContiguousStorageIfAvailable { buffer in
            try process(UnsafeRawBufferPointer(buffer), final: final, flush: flush, into: &output)
        }
        if done == nil {
            try Array(input).withUnsafeBytes {
                try process($0, final: final, flush: flush, into: &output)
            }
        }
    }

    /// Compresses `input` and returns the compressed bytes.
    public func process(_ input: some Collection<UInt8>, final: Bool, flush: Bool = true) throws
        -> [UInt8]
    {
        var output: [UInt8] = []
        try process(input, final: final, flush: flush, into: &output)
        return output
    }

    /// Starts a new stream with the same settings (`totalInput`/`totalOutput` restart at 0). Also
    /// clears a failure.
    public func reset() {
        if initialized { deflateReset(stream) }
        stream.pointee.msg = nil
        finished = false
        failure = nil
        totalInput = 0
        totalOutput = 0
    }

    // MARK: - Implementation

    private func initializeIfNeeded() throws {
        guard !initialized else { return }
        let bits: Int32
        switch format {
        case .gzip: bits = Int32(windowBits) + 16
        case .deflate: bits = Int32(windowBits)
        case .rawDeflate: bits = -Int32(windowBits)
        }
        let code = czlib_deflateInit2(stream, Int32(level), Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY)
        guard code == Z_OK else {
            throw ContentCodingError.zlib(code: code, message: zlibMessage(stream, code))
        }
        initialized = true
    }

    private func deflateAll(
        _ input: UnsafeRawBufferPointer, final: Bool, flush: Bool, into output: inout [UInt8]
    ) throws {
        defer {
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        var offset = 0
        repeat {
            let chunk = min(input.count - offset, zlibMaxChunk)
            let last = offset + chunk == input.count
            if let base = input.baseAddress, chunk > 0 {
                stream.pointee.next_in = UnsafeMutablePointer(
                    mutating: (base + offset).assumingMemoryBound(to: UInt8.self))
            } else {
                stream.pointee.next_in = nil
            }
            stream.pointee.avail_in = UInt32(chunk)
            let mode: Int32
            if !last {
                mode = Z_NO_FLUSH
            } else if final {
                mode = Z_FINISH
            } else {
                mode = flush ? Z_SYNC_FLUSH : Z_NO_FLUSH
            }
            try deflateChunk(mode, into: &output)
            offset += chunk
            totalInput += chunk
        } while offset < input.count
    }

    /// Runs deflate with `mode` until the input is used up (and, for Z_FINISH, the stream ended).
    private func deflateChunk(_ mode: Int32, into output: inout [UInt8]) throws {
        while true {
            stream.pointee.next_out = scratch.baseAddress
            stream.pointee.avail_out = UInt32(scratch.count)
            let code = deflate(stream, mode)
            guard code == Z_OK || code == Z_STREAM_END || code == Z_BUF_ERROR else {
                throw ContentCodingError.zlib(code: code, message: zlibMessage(stream, code))
            }
            let produced = scratch.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<produced]))
                totalOutput += produced
            }
            if mode == Z_FINISH {
                if code == Z_STREAM_END { return }
            } else if stream.pointee.avail_out != 0 {
                // zlib stopped with room to spare: all input consumed and the flush is complete.
                return
            }
        }
    }
}
