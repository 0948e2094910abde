import Foundation
import HTTPCore
import TestSupport
import XCTest

final class ZlibTests: XCTestCase {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    private func compress(
        _ data: [UInt8], _ format: Deflater.Format, level: Int = Deflater.defaultLevel
    ) throws
        -> [UInt8]
    {
        try Deflater(format: format, level: level).process(data, final: true)
    }

    private func decompress(_ data: [UInt8], _ format: Inflater.Format) throws -> [UInt8] {
        try Inflater(format: format).process(data, final: true)
    }

    private func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = SplitMix64(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
    }

    /// Text-like data that compresses, longer than zlib's window and our scratch buffer.
    private func textLike(_ count: Int) -> [UInt8] {
        var rng = SplitMix64(seed: 3)
        let words = [
            "stepwise", "http", "header", "stream", "gzip", "deflate", "zlib", "the", "a", "\n",
        ]
        var out: [UInt8] = []
        while out.count < count {
            out += Array(words[Int(rng.next() % UInt64(words.count))].utf8)
            out.append(0x20)
        }
        return Array(out.prefix(count))
    }

    private func assertCodingError(
        _ expected: ContentCodingError, file: StaticString = #filePath, line: UInt = #line,
        _ body: () throws -> Void
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            XCTAssertEqual(error as? ContentCodingError, expected, file: file, line: line)
        }
    }

    private func assertInvalidData(
        file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
    ) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case .invalidData(let message)? = error as? ContentCodingError else {
                return XCTFail("expected invalidData, got \(error)", file: file, line: line)
            }
            XCTAssertFalse(message.isEmpty, file: file, line: line)
        }
    }

    // MARK: - Round trips

    // lua-http: "round trips"
    func testRoundTrips() throws {
        let samples: [[UInt8]] = [
            bytes("foo"), bytes("hi"), Array(repeating: "az", count: 100_000).flatMap { bytes($0) }, [],
            [0],
            textLike(300_000), randomBytes(100_000, seed: 1),
        ]
        let pairs: [(Deflater.Format, [Inflater.Format])] = [
            (.gzip, [.gzip, .auto]), (.deflate, [.deflate, .auto]),
            (.rawDeflate, [.rawDeflate, .deflate, .auto]),
        ]
        for sample in samples {
            for (encoding, decodings) in pairs {
                let compressed = try compress(sample, encoding)
                for decoding in decodings {
                    XCTAssertEqual(
                        try decompress(compressed, decoding), sample,
                        "\(sample.count) bytes \(encoding) → \(decoding)")
                }
            }
        }
    }

    func testEveryLevelRoundTrips() throws {
        let data = textLike(50_000)
        var sizes: [Int] = []
        for level in -1...9 {
            let compressed = try compress(data, .gzip, level: level)
            XCTAssertEqual(try decompress(compressed, .gzip), data, "level \(level)")
            sizes.append(compressed.count)
        }
        XCTAssertGreaterThan(sizes[1], data.count, "level 0 stores")
        XCTAssertLessThan(sizes[10], sizes[2], "level 9 beats level 1")
    }

    func testFormatsHaveTheirHeaders() throws {
        let gzip = try compress(bytes("hello"), .gzip)
        XCTAssertEqual(Array(gzip.prefix(3)), [0x1F, 0x8B, 0x08], "RFC 1952 ID1 ID2 CM")
        let zlib = try compress(bytes("hello"), .deflate)
        XCTAssertEqual(
            Array(zlib.prefix(2)), [0x78, 0x9C], "RFC 1950 CMF/FLG for a 32K window, default level")
        let small = try Deflater(format: .deflate, windowBits: 9).process(bytes("hello"), final: true)
        XCTAssertEqual(small[0] >> 4, 1, "CINFO = windowBits - 8")
        XCTAssertEqual(try decompress(small, .deflate), bytes("hello"))
    }

    // lua-http: "streaming round trips" — with sync flushes, each piece decodes as soon as it arrives.
    func testStreamingRoundTripDecodesEachPieceImmediately() throws {
        let pieces: [[UInt8]] = [
            bytes("short string"), Array(repeating: bytes("foo"), count: 100_000).flatMap { $0 },
            bytes("middle"),
            Array(repeating: bytes("bar"), count: 100_000).flatMap { $0 }, bytes("end"), [],
        ]
        for (encoding, decoding) in [
            (Deflater.Format.gzip, Inflater.Format.gzip), (.deflate, .deflate), (.rawDeflate, .auto),
        ] {
            let deflater = Deflater(format: encoding)
            let inflater = Inflater(format: decoding)
            for piece in pieces {
                let z = try deflater.process(piece, final: false)
                XCTAssertEqual(try inflater.process(z, final: false), piece, "\(encoding)")
            }
            XCTAssertEqual(try inflater.process(try deflater.process([], final: true), final: true), [])
            XCTAssertEqual(inflater.totalOutput, pieces.reduce(0) { $0 + $1.count })
            XCTAssertEqual(deflater.totalInput, inflater.totalOutput)
            XCTAssertEqual(deflater.totalOutput, inflater.totalInput)
        }
    }

    func testOneByteAtATime() throws {
        let data = textLike(20_000) + randomBytes(3_000, seed: 9)
        let cases: [(Deflater.Format, Inflater.Format)] = [
            (.gzip, .gzip), (.gzip, .auto), (.deflate, .deflate), (.deflate, .auto),
            (.rawDeflate, .deflate),
            (.rawDeflate, .rawDeflate), (.rawDeflate, .auto),
        ]
        for (encoding, decoding) in cases {
            // Encode one byte per call too, without flushing (flushing per byte would bloat it).
            let deflater = Deflater(format: encoding)
            var compressed: [UInt8] = []
            for byte in data {
                try deflater.process([byte], final: false, flush: false, into: &compressed)
            }
            try deflater.process([], final: true, into: &compressed)

            let inflater = Inflater(format: decoding)
            var output: [UInt8] = []
            for byte in compressed { try inflater.process([byte], final: false, into: &output) }
            try inflater.process([], final: true, into: &output)
            XCTAssertEqual(output, data, "\(encoding) → \(decoding)")
        }
    }

    func testRawBufferAndNonContiguousInput() throws {
        let data = textLike(10_000)
        let compressed = try compress(data, .gzip)
        var output: [UInt8] = []
        let inflater = Inflater(format: .gzip)
        try compressed.withUnsafeBytes { try inflater.process($0, final: true, into: &output) }
        XCTAssertEqual(output, data)
        // A collection without contiguous storage.
        let lazy = compressed.lazy.map { $0 }
        XCTAssertEqual(try Inflater(format: .gzip).process(lazy, final: true), data)
        XCTAssertEqual(
            try decompress(
                try Deflater(format: .deflate).process(data.lazy.map { $0 }, final: true), .deflate), data)
    }

    // MARK: - Bad input

    // lua-http: "decompressor errors on invalid input"
    func testInvalidInput() {
        for format in [Inflater.Format.gzip, .deflate, .rawDeflate, .auto] {
            let inflater = Inflater(format: format)
            assertInvalidData { _ = try inflater.process(self.bytes("asdfghjk"), final: false) }
            // The error sticks.
            assertInvalidData { _ = try inflater.process(self.bytes("more"), final: true) }
        }
        XCTAssertThrowsError(try decompress(bytes("asdfghjk"), .gzip)) { error in
            XCTAssertEqual(error as? ContentCodingError, .invalidData("incorrect header check"))
            XCTAssertEqual(String(describing: error), "invalid compressed data: incorrect header check")
        }
    }

    func testCorruptedChecksumsAreDetected() throws {
        let data = textLike(5_000)
        var gzip = try compress(data, .gzip)
        gzip[gzip.count - 6] ^= 0xFF  // inside the CRC-32
        XCTAssertThrowsError(try decompress(gzip, .gzip)) { error in
            XCTAssertEqual(error as? ContentCodingError, .invalidData("incorrect data check"))
        }
        var zlib = try compress(data, .deflate)
        zlib[zlib.count - 1] ^= 0x01  // the Adler-32
        XCTAssertThrowsError(try decompress(zlib, .deflate)) { error in
            XCTAssertEqual(error as? ContentCodingError, .invalidData("incorrect data check"))
        }
        var length = try compress(data, .gzip)
        length[length.count - 2] ^= 0x01  // ISIZE
        XCTAssertThrowsError(try decompress(length, .gzip)) { error in
            XCTAssertEqual(error as? ContentCodingError, .invalidData("incorrect length check"))
        }
    }

    // lua-http: "decompressor fails on incorrect end_stream flag"
    func testTruncatedStreamFailsAtFinal() throws {
        let deflater = Deflater(format: .deflate)
        let z = try deflater.process(
            Array(repeating: bytes("foo"), count: 100_000).flatMap { $0 }, final: false)
        XCTAssertFalse(z.isEmpty)
        assertCodingError(.truncated) { _ = try Inflater(format: .deflate).process(z, final: true) }

        let complete = try compress(textLike(10_000), .gzip)
        for cut in [1, 4, 8, complete.count - 10, complete.count - 1] {
            let inflater = Inflater(format: .gzip)
            var output: [UInt8] = []
            XCTAssertThrowsError(
                try inflater.process(complete.prefix(cut), final: true, into: &output), "cut \(cut)"
            ) {
                XCTAssertEqual($0 as? ContentCodingError, .truncated)
            }
        }
        // A single byte cannot even say which format it is.
        assertCodingError(.truncated) { _ = try self.decompress([0x78], .deflate) }
        assertCodingError(.truncated) { _ = try self.decompress([0x1F], .auto) }
        // The error is sticky.
        let inflater = Inflater(format: .gzip)
        assertCodingError(.truncated) { _ = try inflater.process(complete.prefix(20), final: true) }
        assertCodingError(.truncated) { _ = try inflater.process(complete.dropFirst(20), final: true) }
    }

    // lua-http: "decompresses over multiple sections" — a partial stream is not an error until final.
    func testPartialStreamIsNotAnError() throws {
        let data = textLike(100_000)
        let compressed = try compress(data, .gzip)
        let inflater = Inflater(format: .gzip)
        let partial = try inflater.process(compressed.prefix(compressed.count / 3), final: false)
        XCTAssertEqual(Array(data.prefix(partial.count)), partial)
        let rest = try inflater.process(compressed.dropFirst(compressed.count / 3), final: true)
        XCTAssertEqual(partial + rest, data)
    }

    func testEmptyBodyDecodesToNothing() throws {
        for format in [Inflater.Format.gzip, .deflate, .rawDeflate, .auto] {
            let inflater = Inflater(format: format)
            XCTAssertEqual(try inflater.process([], final: false), [])
            XCTAssertEqual(try inflater.process([], final: false), [])
            XCTAssertEqual(try inflater.process([], final: true), [], "\(format)")
        }
    }

    func testProcessAfterFinalThrows() throws {
        let inflater = Inflater(format: .gzip)
        _ = try inflater.process(try compress(bytes("x"), .gzip), final: true)
        assertCodingError(.finished) { _ = try inflater.process([], final: true) }
        let deflater = Deflater(format: .gzip)
        _ = try deflater.process(bytes("x"), final: true)
        assertCodingError(.finished) { _ = try deflater.process(self.bytes("y"), final: true) }
    }

    func testTrailingDataAfterAZlibOrRawStream() throws {
        let zlib = try compress(bytes("hello"), .deflate)
        assertCodingError(.trailingData) { _ = try self.decompress(zlib + [0], .deflate) }
        let raw = try compress(bytes("hello"), .rawDeflate)
        assertCodingError(.trailingData) {
            _ = try self.decompress(raw + self.bytes("junk"), .rawDeflate)
        }
        // Trailing data in a later call.
        let inflater = Inflater(format: .auto)
        XCTAssertEqual(try inflater.process(zlib, final: false), bytes("hello"))
        assertCodingError(.trailingData) { _ = try inflater.process([1, 2], final: true) }
        // After a gzip member, what follows must be another member.
        let gzip = try compress(bytes("hello"), .gzip)
        assertInvalidData { _ = try self.decompress(gzip + self.bytes("garbage!"), .gzip) }
    }

    func testPresetDictionaryIsRefused() {
        // A zlib header with FDICT set (CMF 0x78, FLG 0xBB: level bits 2, FDICT, check bits), then
        // the dictionary's Adler-32.
        assertCodingError(.needsDictionary) {
            _ = try self.decompress([0x78, 0xBB, 0, 0, 0, 1, 0x03, 0x00], .deflate)
        }
    }

    func testZlibHeaderDetection() throws {
        // RFC 1950 CMF/FLG pairs for each compression level, and raw data that starts otherwise.
        for level in 0...9 {
            let compressed = try compress(bytes("detect me"), .deflate, level: level)
            XCTAssertEqual((Int(compressed[0]) << 8 | Int(compressed[1])) % 31, 0)
            XCTAssertEqual(try decompress(compressed, .deflate), bytes("detect me"))
            XCTAssertEqual(
                try decompress(try compress(bytes("detect me"), .rawDeflate, level: level), .deflate),
                bytes("detect me"))
        }
    }

    // MARK: - Multi-member gzip

    func testMultiMemberGzip() throws {
        let a = textLike(40_000)
        let b = randomBytes(5_000, seed: 2)
        let c = bytes("third")
        let joined = try compress(a, .gzip) + compress(b, .gzip) + compress(c, .gzip)
        XCTAssertEqual(try decompress(joined, .gzip), a + b + c)
        XCTAssertEqual(try decompress(joined, .auto), a + b + c)

        // One byte at a time, across the member boundaries.
        let inflater = Inflater(format: .gzip)
        var output: [UInt8] = []
        for byte in joined { try inflater.process([byte], final: false, into: &output) }
        try inflater.process([], final: true, into: &output)
        XCTAssertEqual(output, a + b + c)

        // A boundary exactly between calls, and a second member cut short.
        let second = try compress(b, .gzip)
        let split = Inflater(format: .gzip)
        XCTAssertEqual(try split.process(try compress(a, .gzip), final: false), a)
        assertCodingError(.truncated) {
            _ = try split.process(second.prefix(second.count - 3), final: true)
        }
    }

    // MARK: - Decompression bomb guard

    func testOutputLimit() throws {
        XCTAssertEqual(Inflater.defaultMaxOutput, 64 * 1024 * 1024)
        let zeros = [UInt8](repeating: 0, count: 10 << 20)
        let bomb = try compress(zeros, .gzip, level: 9)
        XCTAssertLessThan(bomb.count, 20_000)

        let limited = Inflater(format: .gzip, maxOutput: 1 << 20)
        var output: [UInt8] = []
        XCTAssertThrowsError(try limited.process(bomb, final: true, into: &output)) { error in
            XCTAssertEqual(error as? ContentCodingError, .outputLimitExceeded(limit: 1 << 20))
            XCTAssertEqual(
                String(describing: error), "decompressed size exceeds the limit of 1048576 bytes")
        }
        XCTAssertLessThanOrEqual(output.count, 1 << 20)
        XCTAssertLessThanOrEqual(limited.totalOutput, 1 << 20)

        // Exactly at the limit is fine.
        let exact = Inflater(format: .gzip, maxOutput: zeros.count)
        XCTAssertEqual(try exact.process(bomb, final: true).count, zeros.count)

        // The limit counts across calls and can be changed midway.
        let streaming = Inflater(format: .gzip)
        streaming.maxOutput = 3 << 20
        XCTAssertThrowsError(
            try {
                var out: [UInt8] = []
                for chunk in stride(from: 0, to: bomb.count, by: 1000) {
                    try streaming.process(
                        bomb[chunk..<min(chunk + 1000, bomb.count)], final: false, into: &out)
                }
            }()
        ) { XCTAssertEqual($0 as? ContentCodingError, .outputLimitExceeded(limit: 3 << 20)) }
    }

    // MARK: - reset

    /// `process(_:final:into:outputLimit:)` stops near the limit and says how much input it
    /// used: a small body that expands a thousandfold comes out bit by bit, whole and in order.
    func testDecodingStopsAtTheOutputLimitAndResumesWhereItStopped() throws {
        let original = (0..<(8 << 20)).map { UInt8(truncatingIfNeeded: $0 / 4096) }
        for format in [Deflater.Format.gzip, .deflate] {
            let compressed = try Deflater(format: format).process(original, final: true)
            XCTAssertLessThan(compressed.count, 64 * 1024)
            let inflater = Inflater(format: format == .gzip ? .gzip : .deflate, maxOutput: .max)
            var decoded: [UInt8] = []
            var offset = 0
            var calls = 0
            while true {
                calls += 1
                var piece: [UInt8] = []
                let used = try compressed.withUnsafeBytes {
                    try inflater.process(
                        UnsafeRawBufferPointer(rebasing: $0[offset...]), final: true, into: &piece, outputLimit: 100_000
                    )
                }
                XCTAssertLessThan(piece.count, 100_000 + 32 * 1024, "\(format): past the limit by more than a pass")
                decoded += piece
                offset += used
                if offset == compressed.count { break }
                XCTAssertLessThan(calls, 1000)
            }
            XCTAssertEqual(decoded.count, original.count, "\(format)")
            XCTAssertTrue(decoded == original, "\(format)")
            XCTAssertGreaterThan(calls, 8 << 20 / (100_000 + 32 * 1024), "\(format): decoded in one go")
            XCTAssertThrowsError(try inflater.process([], final: true), "\(format): the stream did not end") { error in
                XCTAssertEqual(error as? ContentCodingError, .finished)
            }
        }
        // `final` counts once all the input is used: a truncated stream still fails.
        let compressed = try Deflater(format: .gzip).process(original, final: true)
        let cut = Array(compressed.dropLast(10))
        let inflater = Inflater(format: .gzip, maxOutput: .max)
        var offset = 0
        XCTAssertThrowsError(
            try {
                while true {
                    var piece: [UInt8] = []
                    offset += try cut.withUnsafeBytes {
                        try inflater.process(
                            UnsafeRawBufferPointer(rebasing: $0[offset...]), final: true, into: &piece,
                            outputLimit: 1 << 20)
                    }
                }
            }()
        ) { error in XCTAssertEqual(error as? ContentCodingError, .truncated) }
    }

    /// A raw deflate stream has no trailer after its data: the pass that reaches the limit can
    /// take the last input octets with the end of the last match still to write. Taking all the
    /// input then still means all it decodes to came out: the stream ends, with `final` on that
    /// call or on an empty call after it, and no call goes a pass past the limit.
    func testALimitedPassThatTakesTheLastRawDeflateOctetsEndsTheStream() throws {
        // 65,560 zeros: the pass that reaches 64 KiB takes the last octets, 24 octets of a match to
        // come. With a limit of 1, a pass goes as far past it as any.
        let original = [UInt8](repeating: 0, count: 65_560)
        let compressed = try Deflater(format: .rawDeflate).process(original, final: true)
        for limit in [32 * 1024, 1] {
            for finalOnEmpty in [false, true] {
                let label = "limit \(limit), final on an empty call: \(finalOnEmpty)"
                let inflater = Inflater(format: .deflate, maxOutput: .max)
                var decoded: [UInt8] = []
                var offset = 0
                XCTAssertNoThrow(
                    try {
                        while offset < compressed.count {
                            let before = decoded.count
                            offset += try compressed.withUnsafeBytes {
                                try inflater.process(
                                    UnsafeRawBufferPointer(rebasing: $0[offset...]), final: !finalOnEmpty,
                                    into: &decoded, outputLimit: limit)
                            }
                            XCTAssertLessThan(decoded.count - before, limit + 32 * 1024, "\(label): past a pass")
                        }
                        if finalOnEmpty {
                            _ = try inflater.process(
                                UnsafeRawBufferPointer(start: nil, count: 0), final: true, into: &decoded,
                                outputLimit: limit)
                        }
                    }(), label)
                XCTAssertEqual(decoded.count, original.count, label)
            }
        }
    }

    func testResetDecodesAnotherStream() throws {
        let inflater = Inflater(format: .auto)
        XCTAssertEqual(
            try inflater.process(try compress(bytes("one"), .gzip), final: true), bytes("one"))
        inflater.reset()
        XCTAssertEqual(
            try inflater.process(try compress(bytes("two"), .deflate), final: true), bytes("two"))
        inflater.reset()
        XCTAssertEqual(
            try inflater.process(try compress(bytes("three"), .rawDeflate), final: true), bytes("three"))
        inflater.reset()
        assertInvalidData { _ = try inflater.process(self.bytes("asdfghjk"), final: true) }
        inflater.reset()
        XCTAssertEqual(
            try inflater.process(try compress(bytes("four"), .gzip), final: true), bytes("four"))
        XCTAssertEqual(inflater.totalOutput, 4)

        let deflater = Deflater(format: .gzip)
        let first = try deflater.process(bytes("same"), final: true)
        deflater.reset()
        XCTAssertEqual(try deflater.process(bytes("same"), final: true), first)
    }

    // MARK: - ContentCoding

    func testContentCodingTokens() {
        XCTAssertEqual(ContentCoding(token: "gzip"), .gzip)
        XCTAssertEqual(ContentCoding(token: "x-gzip"), .gzip)
        XCTAssertEqual(ContentCoding(token: "GZip"), .gzip)
        XCTAssertEqual(ContentCoding(token: " deflate\t"), .deflate)
        XCTAssertEqual(ContentCoding(token: "identity"), .identity)
        XCTAssertEqual(ContentCoding(token: "IDENTITY"), .identity)
        for other in ["br", "zstd", "compress", "x-compress", "", "gzip;q=1", "gz ip", "deflate-raw"] {
            XCTAssertNil(ContentCoding(token: other), other)
        }
        XCTAssertEqual(ContentCoding.gzip.token, "gzip")
        XCTAssertEqual(ContentCoding.parseList("gzip"), [.gzip])
        XCTAssertEqual(ContentCoding.parseList("deflate, gzip"), [.deflate, .gzip])
        XCTAssertEqual(ContentCoding.parseList(" , gzip,,identity ,"), [.gzip, .identity])
        XCTAssertEqual(ContentCoding.parseList(""), [])
        XCTAssertNil(ContentCoding.parseList("gzip, br"))
        XCTAssertNil(ContentCoding.identity.makeInflater())
        XCTAssertEqual(ContentCoding.gzip.makeInflater()?.format, .gzip)
        XCTAssertEqual(ContentCoding.deflate.makeInflater(maxOutput: 5)?.maxOutput, 5)
        XCTAssertEqual(ContentCoding.deflate.makeDeflater()?.format, .deflate)
        XCTAssertNil(ContentCoding.identity.makeDeflater())
    }

    // MARK: - Interop with other implementations

    private func run(_ command: String, stdin: [UInt8]) throws -> (status: Int32, stdout: [UInt8]) {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("stepwise-zlib-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("in")
        let output = directory.appendingPathComponent("out")
        try Data(stdin).write(to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "(\(command)) < '\(input.path)' > '\(output.path)'"]
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, Array(try Data(contentsOf: output)))
    }

    private func requireTool(_ name: String) throws {
        let (status, _) = try run("command -v \(name)", stdin: [])
        // A peer tool the test needs is installed by `make test`: its absence is a failure, not a skip.
        if status != 0 {
            XCTFail("\(name) is not installed (make test installs it)")
            throw CocoaError(.executableNotLoadable)
        }
    }

    func testGzipCommandInterop() throws {
        try requireTool("gzip")
        let data = textLike(200_000) + randomBytes(10_000, seed: 5)
        for flags in ["-c -1", "-c -9", "-c -n"] {
            let (status, compressed) = try run("gzip \(flags)", stdin: data)
            XCTAssertEqual(status, 0)
            XCTAssertEqual(try decompress(compressed, .gzip), data, flags)
            XCTAssertEqual(try decompress(compressed, .auto), data, flags)
        }
        // A gzip file with a name in its header (FNAME), from a real file.
        let (status, named) = try run(
            "d=$(mktemp -d) && cat > \"$d/file.txt\" && gzip -c \"$d/file.txt\"; rm -r \"$d\"",
            stdin: data)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(named.count > 3 ? named[3] & 0x08 : 0, 0x08, "FNAME is set")
        XCTAssertEqual(try decompress(named, .gzip), data)
        // Two members written by gzip, concatenated.
        let (_, first) = try run("gzip -c", stdin: Array(data.prefix(1000)))
        let (_, second) = try run("gzip -c", stdin: Array(data.dropFirst(1000)))
        XCTAssertEqual(try decompress(first + second, .gzip), data)
        // And gzip reads what we write.
        let (dstatus, decompressed) = try run("gzip -dc", stdin: try compress(data, .gzip))
        XCTAssertEqual(dstatus, 0)
        XCTAssertEqual(decompressed, data)
        let (mstatus, multi) = try run(
            "gzip -dc", stdin: try compress(bytes("a"), .gzip) + compress(bytes("b"), .gzip))
        XCTAssertEqual(mstatus, 0)
        XCTAssertEqual(multi, bytes("ab"))
    }

    func testPythonZlibInterop() throws {
        try requireTool("python3")
        let data = textLike(100_000)
        func python(_ expression: String, _ input: [UInt8]) throws -> [UInt8] {
            let script =
                "import sys, zlib; d = sys.stdin.buffer.read(); sys.stdout.buffer.write(\(expression))"
            let (status, output) = try run("python3 -c '\(script)'", stdin: input)
            XCTAssertEqual(status, 0, expression)
            return output
        }
        // zlib-wrapped and raw deflate from Python both decode as HTTP `deflate`.
        let zlibWrapped = try python("zlib.compress(d, 9)", data)
        XCTAssertEqual(try decompress(zlibWrapped, .deflate), data)
        let rawCompressor =
            "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, -15))"
        let raw = try python(rawCompressor, data)
        XCTAssertEqual(try decompress(raw, .deflate), data)
        XCTAssertEqual(try decompress(raw, .auto), data)
        let gzipCompressor =
            "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, 31))"
        XCTAssertEqual(try decompress(try python(gzipCompressor, data), .gzip), data)
        // A preset dictionary.
        let dictCompressor =
            "(lambda c: c.compress(d) + c.flush())(zlib.compressobj(zdict=b\"stepwise\"))"
        assertCodingError(.needsDictionary) {
            _ = try self.decompress(try python(dictCompressor, data), .deflate)
        }
        // Python reads what we write.
        XCTAssertEqual(try python("zlib.decompress(d)", try compress(data, .deflate)), data)
        XCTAssertEqual(try python("zlib.decompress(d, -15)", try compress(data, .rawDeflate)), data)
        XCTAssertEqual(try python("zlib.decompress(d, 31)", try compress(data, .gzip)), data)
        // Sync-flushed pieces are decodable by Python one at a time.
        let deflater = Deflater(format: .rawDeflate)
        let piece = try deflater.process(bytes("first piece"), final: false)
        XCTAssertEqual(
            Array(piece.suffix(4)), [0x00, 0x00, 0xFF, 0xFF],
            "a sync flush ends with an empty stored block")
        XCTAssertEqual(try python("zlib.decompressobj(-15).decompress(d)", piece), bytes("first piece"))
    }
}
