internal import CZlib

/// A streaming decoder for gzip, zlib and raw deflate data (zlib's inflate).
///
/// Feed it the body as it arrives with `process(_:final:into:)`; each call appends all the output
/// the input allows. The call that passes `final: true` checks that the compressed stream ended:
/// a body cut short throws `.truncated`. Decoded output is capped by `maxOutput`.
///
/// An `Inflater` is a class because zlib's `z_stream` must not move in memory; it is not
/// thread-safe (use it from one thread at a time) and frees zlib's state when released.
public final class Inflater {
    /// What the input is.
    public enum Format: Sendable, Equatable {
        /// gzip (RFC 1952), including several concatenated members, decoded one after another.
        case gzip
        /// HTTP's `deflate` coding: zlib-wrapped deflate (RFC 1950), but a bare deflate stream
        /// (RFC 1951) is accepted too, since servers send both. The first two bytes decide: a valid
        /// zlib header (CM = 8, CINFO ≤ 7, check bits correct) means zlib, anything else raw.
        case deflate
        /// A bare deflate stream only (RFC 1951), as WebSocket permessage-deflate uses.
        case rawDeflate
        /// Whatever the first bytes say: gzip (`1f 8b`), zlib, or else raw deflate.
        case auto
    }

    /// The default `maxOutput`: 64 MiB.
    public static let defaultMaxOutput = 64 << 20

    public let format: Format
    /// The most decoded bytes this inflater will produce in total (across all calls and gzip
    /// members). Exceeding it throws `.outputLimitExceeded`, which guards against decompression
    /// bombs. Settable at any time.
    public var maxOutput: Int
    /// Decoded bytes produced so far.
    public private(set) var totalOutput = 0
    /// Compressed bytes consumed so far.
    public private(set) var totalInput = 0

    private enum Mode { case gzip, zlib, raw }
    private enum State {
        /// Waiting for the bytes that decide the mode (`pending` holds what came so far).
        case detecting
        /// Inside a stream.
        case running
        /// The stream (or a gzip member) ended; more input may start another gzip member.
        case streamEnded
        /// `final: true` was processed.
        case finished
        /// An error was thrown; every later call throws it again.
        case failed(ContentCodingError)
    }

    private let stream: UnsafeMutablePointer<z_stream>
    private let scratch: UnsafeMutableBufferPointer<UInt8>
    private var mode: Mode?
    private var state = State.detecting
    private var initialized = false
    private var pending: [UInt8] = []

    public init(format: Format = .auto, maxOutput: Int = Inflater.defaultMaxOutput) {
        self.format = format
        self.maxOutput = maxOutput
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        scratch = .allocate(capacity: zlibScratchSize)
    }

    deinit {
        if initialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        scratch.deallocate()
    }

    /// Decodes `input` and appends the result to `output`.
    ///
    /// - Parameters:
    ///   - final: this is the end of the body; the compressed stream must end here too.
    /// - Throws: `ContentCodingError`: `.invalidData` (with zlib's message), `.truncated`,
    ///   `.outputLimitExceeded`, `.trailingData`, `.needsDictionary`, `.finished`. After an error
    ///   the inflater is dead: every later call throws the same error. What was appended before
    ///   the error stays in `output`.
    ///
    /// An empty body (no bytes at all before `final: true`) decodes to nothing without an error:
    /// it is what a server sends for an empty representation that it labels as encoded.
    public func process(_ input: UnsafeRawBufferPointer, final: Bool, into output: inout [UInt8])
        throws
    {
        switch state {
        case .failed(let error): throw error
        case .finished: throw ContentCodingError.finished
        default: break
        }
        do {
            _ = try step(input, final: final, into: &output, stopAt: .max)
        } catch let error as ContentCodingError {
            state = .failed(error)
            throw error
        }
    }

    /// Decodes from `input` until `output` grew by `outputLimit` octets or the input is used up,
    /// and returns how many octets of `input` it consumed: the caller passes the rest again later.
    /// `output` may grow past the limit by less than 32 KiB (one pass of zlib's output buffer).
    /// `final` counts only once all of `input` is consumed. A reader that takes what a small body
    /// decodes to bit by bit so never holds more than it asked for, however much the body expands.
    /// - Throws: as `process(_:final:into:)`.
    public func process(
        _ input: UnsafeRawBufferPointer, final: Bool, into output: inout [UInt8], outputLimit: Int
    ) throws -> Int {
        switch state {
        case .failed(let error): throw error
        case .finished: throw ContentCodingError.finished
        default: break
        }
        do {
            let room = max(outputLimit, 1)
            let stopAt = room >= Int.max - output.count ? Int.max : output.count + room
            return try step(input, final: final, into: &output, stopAt: stopAt)
        } catch let error as ContentCodingError {
            state = .failed(error)
            throw error
        }
    }

    /// Decodes `input` and appends the result to `output`. See the `UnsafeRawBufferPointer`
    /// variant.
    public func process(_ input: some Collection<UInt8>, final: Bool, into output: inout [UInt8])
        throws
    {
        let done: Void? = try input.withContiguousStorageIfAvailable { buffer in
            try process(UnsafeRawBufferPointer(buffer), final: final, into: &output)
        }
        if done == nil {
            try Array(input).withUnsafeBytes { try process($0, final: final, into: &output) }
        }
    }

    /// Decodes `input` and returns what it decoded to.
    public func process(_ input: some Collection<UInt8>, final: Bool) throws -> [UInt8] {
        var output: [UInt8] = []
        try process(input, final: final, into: &output)
        return output
    }

    /// Forgets the current stream so the inflater can decode a new one (with the same format and
    /// limit; `totalInput`/`totalOutput` restart at 0). Also clears a failure.
    public func reset() {
        if initialized { inflateReset(stream) }
        stream.pointee.msg = nil
        state = .detecting
        pending = []
        totalInput = 0
        totalOutput = 0
    }

    // MARK: - Implementation

    /// Inflates until `output.count` reaches `stopAt` or the input is used up; returns how many
    /// octets of `input` were consumed.
    private func step(_ input: UnsafeRawBufferPointer, final: Bool, into output: inout [UInt8], stopAt: Int)
        throws -> Int
    {
        var consumed = input.count
        if case .detecting = state {
            guard let decided = try detect(input, final: final) else { return input.count }
            // `decided` holds the bytes seen so far (held back ones plus this input).
            if decided.isEmpty {
                // The whole body was empty.
                state = .finished
                return input.count
            }
            let used = try decided.withUnsafeBytes { try inflateAll($0, into: &output, stopAt: stopAt) }
            // The held-back octets (at most one) are a header's, used before any output.
            consumed = max(0, used - (decided.count - input.count))
        } else {
            consumed = try inflateAll(input, into: &output, stopAt: stopAt)
        }
        if final && consumed == input.count {
            guard case .streamEnded = state else { throw ContentCodingError.truncated }
            state = .finished
        }
        return consumed
    }

    /// Works out the mode from the first bytes. Returns nil while it needs more bytes (they are
    /// held in `pending`), else the bytes to inflate, with zlib initialized for the mode.
    private func detect(_ input: UnsafeRawBufferPointer, final: Bool) throws -> [UInt8]? {
        let needed: Int
        switch format {
        case .gzip, .rawDeflate: needed = 0
        case .deflate, .auto: needed = 2
        }
        let available = pending.count + input.count
        if (available < needed || available == 0) && !final {
            pending.append(contentsOf: input)
            totalInput += input.count
            return nil
        }
        var bytes = pending
        bytes.append(contentsOf: input)
        pending = []
        totalInput -= bytes.count - input.count  // counted again while inflating
        if bytes.isEmpty { return [] }
        if bytes.count < needed { throw ContentCodingError.truncated }

        let detected: Mode
        switch format {
        case .gzip: detected = .gzip
        case .rawDeflate: detected = .raw
        case .deflate: detected = Inflater.isZlibHeader(bytes[0], bytes[1]) ? .zlib : .raw
        case .auto:
            if bytes[0] == 0x1F && bytes[1] == 0x8B {
                detected = .gzip
            } else {
                detected = Inflater.isZlibHeader(bytes[0], bytes[1]) ? .zlib : .raw
            }
        }
        try initialize(detected)
        state = .running
        return bytes
    }

    /// RFC 1950 §2.2: CM (low nibble of CMF) is 8, CINFO (high nibble) is at most 7, and
    /// CMF·256 + FLG is a multiple of 31.
    static func isZlibHeader(_ cmf: UInt8, _ flg: UInt8) -> Bool {
        cmf & 0x0F == 8 && cmf >> 4 <= 7 && (UInt16(cmf) << 8 | UInt16(flg)) % 31 == 0
    }

    private func initialize(_ newMode: Mode) throws {
        if initialized && newMode == mode {
            return  // reset() already reset it
        }
        if initialized {
            inflateEnd(stream)
            stream.pointee = z_stream()
            initialized = false
        }
        let windowBits: Int32
        switch newMode {
        case .gzip: windowBits = MAX_WBITS + 16
        case .zlib: windowBits = MAX_WBITS
        case .raw: windowBits = -MAX_WBITS
        }
        let code = czlib_inflateInit2(stream, windowBits)
        guard code == Z_OK else {
            throw ContentCodingError.zlib(code: code, message: zlibMessage(stream, code))
        }
        initialized = true
        mode = newMode
    }

    /// Inflates `input`, appending the output, until `output.count` reaches `stopAt`; returns
    /// how many octets it consumed. Handles gzip member boundaries.
    private func inflateAll(_ input: UnsafeRawBufferPointer, into output: inout [UInt8], stopAt: Int) throws -> Int {
        guard let base = input.baseAddress, input.count > 0 else { return input.count }
        var offset = 0
        defer {
            // zlib must not keep a pointer into the caller's buffer.
            stream.pointee.next_in = nil
            stream.pointee.avail_in = 0
        }
        while offset < input.count {
            let chunk = min(input.count - offset, zlibMaxChunk)
            stream.pointee.next_in = UnsafeMutablePointer(
                mutating: (base + offset).assumingMemoryBound(to: UInt8.self))
            stream.pointee.avail_in = UInt32(chunk)
            try inflateChunk(into: &output, stopAt: stopAt)
            let used = chunk - Int(stream.pointee.avail_in)
            offset += used
            totalInput += used
            if used < chunk { break }
        }
        return offset
    }

    /// The longest deflate match (RFC 1951 §3.2.5): what zlib may still have to write after taking
    /// the last input octets, the rest of the match they coded.
    private static let longestMatch = 258

    /// Runs inflate until the current `next_in`/`avail_in` is used up or `output.count` reached
    /// `stopAt` (then `avail_in` says what is left).
    ///
    /// A pass that reaches `stopAt` and takes the last input octets may leave the rest of a match
    /// unwritten (raw deflate has no trailer after its data for zlib to hold back). Input reported
    /// as used must have come out whole (`final` then means the stream ended), so one more pass
    /// writes it, past `stopAt`. A pass ends at most `scratch.count - longestMatch - 1` past
    /// `stopAt`, so a call still ends less than `scratch.count` past it. A pass with more room
    /// than a match is a whole `scratch.count`, so a limit that is a multiple of it is still met
    /// exactly (but for the rest of a match).
    private func inflateChunk(into output: inout [UInt8], stopAt: Int) throws {
        while true {
            let room = stopAt - output.count
            if room <= 0 && stream.pointee.avail_in > 0 { return }
            if case .streamEnded = state {
                guard stream.pointee.avail_in > 0 else { return }
                // RFC 1952 §2.2: "A gzip file consists of a series of 'members'". Anything after the end
                // of a zlib or raw stream is an error.
                guard mode == .gzip else { throw ContentCodingError.trailingData }
                inflateReset(stream)
                state = .running
            }
            stream.pointee.next_out = scratch.baseAddress
            let passSize =
                room > 0 && room <= Self.longestMatch ? room + scratch.count - Self.longestMatch - 1 : scratch.count
            stream.pointee.avail_out = UInt32(passSize)
            let code = inflate(stream, Z_NO_FLUSH)
            let produced = passSize - Int(stream.pointee.avail_out)
            if produced > 0 {
                guard produced <= maxOutput - totalOutput else {
                    throw ContentCodingError.outputLimitExceeded(limit: maxOutput)
                }
                output.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<produced]))
                totalOutput += produced
            }
            switch code {
            case Z_STREAM_END:
                state = .streamEnded
            case Z_OK:
                if stream.pointee.avail_in == 0 && stream.pointee.avail_out != 0 { return }
            case Z_BUF_ERROR:
                // No progress possible: zlib needs more input (there is none left in this call).
                if stream.pointee.avail_in == 0 { return }
                throw ContentCodingError.zlib(code: code, message: zlibMessage(stream, code))
            case Z_NEED_DICT:
                throw ContentCodingError.needsDictionary
            case Z_DATA_ERROR:
                throw ContentCodingError.invalidData(zlibMessage(stream, code))
            default:
                throw ContentCodingError.zlib(code: code, message: zlibMessage(stream, code))
            }
        }
    }
}
