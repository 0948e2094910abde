import Foundation
import Stepwise
import TestSupport
import XCTest

/// Seeded property tests of `DecodedStream`: random data under a random content coding, the
/// encoded body arriving in random pieces, read with both forms of `getNextChunk`.
final class DecodedStreamPropertyTests: XCTestCase {
    /// What one read may return: `maxDecodedChunk`, plus less than one 32 KiB pass of zlib's.
    private static let readBound = DecodedStream.maxDecodedChunk + 32 * 1024

    /// Random data (empty, one octet, compressible or not, up to a few MiB, sizes just past a
    /// multiple of `maxDecodedChunk`) under gzip, x-gzip or deflate (zlib or raw,
    /// levels 0–9, gzip sometimes in two members), its encoded body in random pieces (empty ones
    /// too): the reads return the data, in order, none empty or larger than `readBound`, then the
    /// end, and the end again. An empty encoded body reads as an empty body.
    func testReadsReturnTheDataWhateverThePieces() throws {
        let failures = try Self.run(cases: 400, seed: 0xdec0_ded, corrupt: false)
        XCTAssertEqual(failures.problems, [])
    }

    /// A body cut short or with octets after its end fails a read with
    /// `HTTPStreamError.coding`, never reaching the end first; an octet changed past the headers
    /// too, unless the change was to bits the format ignores (then the data comes out).
    func testCorruptBodiesFailARead() throws {
        let failures = try Self.run(cases: 300, seed: 0xc0_22_00_9, corrupt: true)
        XCTAssertEqual(failures.problems, [])
        XCTAssertLessThan(failures.harmlessChanges * 10, failures.changes, "most changes are caught")
    }

    private struct Outcome: Sendable {
        var problems: [String] = []
        var changes = 0
        var harmlessChanges = 0
    }

    private static func run(cases: Int, seed: UInt64, corrupt: Bool) throws -> Outcome {
        let reactor = try Reactor()
        return try reactor.run(timeout: 60) {
            var rng = SplitMix64(seed: seed)
            var outcome = Outcome()
            for round in 0..<cases {
                let (data, atBoundary) = randomData(&rng)
                var (coding, body, label, changed) = try encode(data, corrupt: corrupt, &rng)
                if !corrupt && rng.next() % 30 == 0 {
                    // No body at all (a 204, a HEAD-like answer) reads as empty.
                    body = []
                    label = "no body"
                }
                // Just past a multiple of `maxDecodedChunk`, read from the start in whole reads.
                let pieces = atBoundary ? [body] : randomSplit(body, &rng)
                let async = rng.next() % 2 == 0
                let stream = DecodedStream(ScriptedStream(reactor, pieces), coding: coding)
                var decoded: [UInt8] = []
                var problem: String?
                var threw = false
                var reads = 0
                do {
                    while true {
                        reads += 1
                        guard reads <= body.count + pieces.count + (corrupt ? 64 << 20 : data.count) + 2 else {
                            problem = "no end after \(reads) reads"
                            break
                        }
                        guard let chunk = try await read(stream, async: async) else {
                            if let again = try await read(stream, async: async) {
                                problem = "read \(again.count) octets after the end"
                            } else if !same(decoded, body.isEmpty ? [] : data) {
                                problem = "read \(decoded.count) octets that differ from the data"
                            } else if corrupt && !changed {
                                problem = "a corrupt body read to its end"
                            }
                            break
                        }
                        if chunk.isEmpty || chunk.count >= readBound {
                            problem = "read \(reads) returned \(chunk.count) octets"
                            break
                        }
                        decoded += chunk
                        if !corrupt && decoded.count > data.count {
                            problem = "read \(decoded.count) octets, more than the data's \(data.count)"
                            break
                        }
                    }
                } catch HTTPStreamError.coding {
                    threw = true
                    if !corrupt { problem = "read \(reads) threw after \(decoded.count) octets" }
                } catch {
                    problem = "read \(reads) threw \(error)"
                }
                if changed {
                    outcome.changes += 1
                    if problem == nil && !threw { outcome.harmlessChanges += 1 }
                }
                if let problem, outcome.problems.count < 5 {
                    outcome.problems.append(
                        "round \(round): \(data.count) octets, \(label), \(pieces.count) pieces, "
                            + "\(async ? "async" : "callback"): \(problem)")
                }
            }
            return outcome
        }
    }

    private static func read(_ stream: DecodedStream, async: Bool) async throws -> [UInt8]? {
        if async { return try await stream.getNextChunk(timeout: nil) }
        var result: Result<[UInt8]?, any Error>?
        // The scripted stream answers at once, so the callback runs before this returns.
        stream.getNextChunk(timeout: nil) { result = $0 }
        guard let result else { throw CancellationError() }
        return try result.get()
    }

    /// `a == b` by `memcmp` (debug builds compare arrays element by element).
    private static func same(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        a.count == b.count
            && a.withUnsafeBytes { a in
                b.withUnsafeBytes { b in a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
            }
    }

    /// `data` under a random content coding (see `RandomCoding`).
    private static func encode(_ data: [UInt8], corrupt: Bool, _ rng: inout SplitMix64) throws
        -> (coding: String, body: [UInt8], label: String, changed: Bool)
    {
        let name = ["gzip", "x-gzip", "deflate"][Int(rng.next() % 3)]
        let coded = try RandomCoding(data[...], name: name, corrupt: corrupt, &rng)
        return (name, coded.body, coded.label, coded.changed)
    }

    /// Random data: empty, one octet, random octets (does not compress), slices of a text, or
    /// long runs, mostly small, sometimes up to 2 MiB, now and then runs just past a multiple of
    /// `maxDecodedChunk`, of one octet (`atBoundary`: where a read's last pass can end inside the
    /// last match).
    private static func randomData(_ rng: inout SplitMix64) -> (data: [UInt8], atBoundary: Bool) {
        let size: Int
        var kind = rng.next() % 3
        var atBoundary = false
        switch rng.next() % 20 {
        case 0: return ([], false)
        case 1: return ([UInt8(truncatingIfNeeded: rng.next())], false)
        case 2...9: size = 2 + Int(rng.next() % 4096)
        case 10...13: size = 4096 + Int(rng.next() % (300 * 1024))
        case 14, 15: size = 256 * 1024 + Int(rng.next() % (2 << 20))
        default:
            size = DecodedStream.maxDecodedChunk * (1 + Int(rng.next() % 6)) + 1 + Int(rng.next() % 300)
            kind = 2
            atBoundary = true
        }
        if kind == 0 {
            let start = Int(rng.next() % UInt64(noise.count - min(size, noise.count - 1)))
            let slice = noise[start..<min(noise.count, start + size)]
            // Past the pool's size, the pool again: still far apart for zlib's 32 KiB window.
            var data = Array(slice)
            while data.count < size { data += noise.prefix(size - data.count) }
            return (data, false)
        }
        // Written through pointers: element by element, debug builds take seconds.
        let data = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var filled = 0
            while filled < size {
                let piece: Int
                if kind == 1 {
                    let start = Int(rng.next() % UInt64(text.count))
                    piece = min(text.count - start, 1 + Int(rng.next() % 2000), size - filled)
                    text.withUnsafeBytes {
                        UnsafeMutableRawBufferPointer(rebasing: raw[filled..<(filled + piece)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<(start + piece)]))
                    }
                } else {
                    // At a boundary, one run: with few symbols, the code that ends the data is short
                    // enough to share an octet with the last match's codes, which zlib then takes
                    // before writing the match.
                    piece = atBoundary ? size : min(size - filled, Int(rng.next() % 20_000))
                    UnsafeMutableRawBufferPointer(rebasing: raw[filled..<(filled + piece)])
                        .initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: rng.next()))
                }
                filled += piece
            }
            count = size
        }
        return (data, atBoundary)
    }

    private static var noise: [UInt8] { SampleData.noise }
    private static var text: [UInt8] { SampleData.text }

    /// `body` in random pieces: some empty, mostly small, now and then large, or whole.
    private static func randomSplit(_ body: [UInt8], _ rng: inout SplitMix64) -> [[UInt8]] {
        if rng.next() % 3 == 0 { return [body] }
        var pieces: [[UInt8]] = []
        var start = 0
        while start < body.count {
            let length: Int
            switch rng.next() % 8 {
            case 0: length = 0
            case 1, 2: length = 1 + Int(rng.next() % 16)
            case 3, 4, 5: length = 1 + Int(rng.next() % 4096)
            default: length = 1 + Int(rng.next() % (512 * 1024))
            }
            let end = min(body.count, start + length)
            pieces.append(Array(body[start..<end]))
            start = end
        }
        return pieces
    }
}

/// A stream whose body is the given encoded pieces, then its end; it answers at once.
private final class ScriptedStream: HTTPStream, @unchecked Sendable {
    let reactor: Reactor
    private var pieces: [[UInt8]]

    init(_ reactor: Reactor, _ pieces: [[UInt8]]) {
        self.reactor = reactor
        self.pieces = pieces
    }

    func getNextChunk(timeout: Double?) async throws -> [UInt8]? { pieces.isEmpty ? nil : pieces.removeFirst() }
    func getNextChunk(timeout: Double?, _ completion: @escaping (Result<[UInt8]?, any Error>) -> Void) {
        completion(.success(pieces.isEmpty ? nil : pieces.removeFirst()))
    }
    func unget(_ bytes: [UInt8]) { pieces.insert(bytes, at: 0) }

    func getHeaders(timeout: Double?) async throws -> Headers? { nil }
    func getHeaders(timeout: Double?, _ completion: @escaping (Result<Headers?, any Error>) -> Void) {
        completion(.success(nil))
    }
    func writeHeaders(_ headers: Headers, endStream: Bool) throws {}
    func writeHeaders(_ headers: Headers, endStream: Bool, timeout: Double?) async throws {}
    func writeChunk(_ bytes: UnsafeRawBufferPointer, endStream: Bool) throws {}
    func writeChunk(_ bytes: [UInt8], endStream: Bool, timeout: Double?) async throws {}
    func shutdown() {}
    func shutdown(after error: any Error) {}
    func checkTLS() -> TLSInfo? { nil }
    func localname() -> SocketName { fatalError("not used") }
    func peername() -> SocketName { fatalError("not used") }
}
