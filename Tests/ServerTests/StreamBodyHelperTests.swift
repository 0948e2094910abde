import Stepwise
import TestSupport
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// The body helpers (`getBodyChars`, `getBodyUntil`, `getBodyAsBytes`, …) on a client `H1Stream`
/// over a socket pair, the raw peer writing the response at chosen moments: what a helper that
/// fails leaves for the next read, its limit, and its deadline when the body is already queued.
final class StreamBodyHelperTests: XCTestCase {
    /// Runs `body` on one reactor with a client connection whose GET was sent, and the peer's fd.
    private func withResponse<T: Sendable>(
        _ body: @escaping @Sendable (H1Stream, Int32) async throws -> T
    ) throws -> T {
        try withClientConnection { client, peer, _ in
            try await body(try await sendGET(on: client), peer)
        }
    }

    private static func send(_ fd: Int32, _ text: String) {
        let written = Array(text.utf8).withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        XCTAssertEqual(written, text.utf8.count)
    }

    private static func text(_ bytes: [UInt8]?) -> String {
        bytes.map { String(decoding: $0, as: UTF8.self) } ?? "nil"
    }

    /// Waits until the whole 5-octet body "hello" is queued on `stream` and has ended, then puts
    /// it back: the helpers then need no input at all.
    private static func queueWholeBody(_ stream: H1Stream, _ peer: Int32) async throws {
        send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
        _ = try await stream.getHeaders(timeout: 1)
        let body = try await stream.getNextChunk(timeout: 1) ?? []
        XCTAssertEqual(text(body), "hello")
        let end = try await stream.getNextChunk(timeout: 0)
        XCTAssertNil(end)
        stream.unget(body)
    }

    // MARK: - A helper that throws puts back what it read

    func testGetBodyCharsThatTimesOutPutsBackWhatItRead() throws {
        let result = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            _ = try await stream.getHeaders(timeout: 1)
            let failure = await thrownError { try await stream.getBodyChars(5, timeout: 0.2) }
            XCTAssertEqual(failure as? ReactorError, .timedOut("getNextChunk"))
            Self.send(peer, "defghij")
            return Self.text(try await stream.getBodyAsBytes(timeout: 1))
        }
        XCTAssertEqual(result, "abcdefghij", "the octets read before the timeout are read again")
    }

    func testGetBodyUntilThatTimesOutPutsBackWhatItRead() throws {
        let result = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nkey=va")
            _ = try await stream.getHeaders(timeout: 1)
            let failure = await thrownError { try await stream.getBodyUntil(Array("&".utf8), timeout: 0.2) }
            XCTAssertEqual(failure as? ReactorError, .timedOut("getNextChunk"))
            Self.send(peer, "lue&xy")
            return Self.text(try await stream.getBodyUntil(Array("&".utf8), timeout: 1))
        }
        XCTAssertEqual(result, "key=value", "the octets read before the timeout are read again")
    }

    func testGetBodyAsBytesThatTimesOutPutsBackWhatItRead() throws {
        let result = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            _ = try await stream.getHeaders(timeout: 1)
            let failure = await thrownError { try await stream.getBodyAsBytes(timeout: 0.2) }
            XCTAssertEqual(failure as? ReactorError, .timedOut("getNextChunk"))
            Self.send(peer, "defghij")
            return Self.text(try await stream.getBodyAsBytes(timeout: 1))
        }
        XCTAssertEqual(result, "abcdefghij", "the octets read before the timeout are read again")
    }

    /// The callback form of `getBodyAsString` collects on its own (not through the async form).
    func testGetBodyAsStringCallbackThatTimesOutPutsBackWhatItRead() throws {
        let result = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            _ = try await stream.getHeaders(timeout: 1)
            let first: Result<String, any Error> = try await stream.reactor.suspend("callback") { suspension in
                stream.getBodyAsString(timeout: 0.2) { suspension.resume(returning: $0) }
                return nil
            }
            XCTAssertThrowsError(try first.get())
            Self.send(peer, "defghij")
            return try await stream.reactor.suspend("callback") { suspension in
                stream.getBodyAsString(timeout: 1) { suspension.resume(returning: $0) }
                return nil
            }.get()
        }
        XCTAssertEqual(result, "abcdefghij", "the octets read before the timeout are read again")
    }

    /// Over its limit, a helper leaves the whole body to another way of reading it.
    func testAHelperOverItsLimitPutsBackWhatItRead() throws {
        let (bytes, until, rest) = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n")
            _ = try await stream.getHeaders(timeout: 1)
            Self.send(peer, "3\r\nhij\r\n0\r\n\r\n")
            let bytes = await thrownError { try await stream.getBodyAsBytes(limit: 5, timeout: 1) }
            let until = await thrownError { try await stream.getBodyUntil(Array("&".utf8), limit: 5, timeout: 1) }
            return (bytes, until, Self.text(try await stream.getBodyAsBytes(timeout: 1)))
        }
        XCTAssertEqual(bytes as? HTTPStreamError, .bodyTooLarge(limit: 5))
        XCTAssertEqual(until as? HTTPStreamError, .bodyTooLarge(limit: 5))
        XCTAssertEqual(rest, "abcdefghij")
    }

    // MARK: - getBodyUntil's limit

    /// "Throws `bodyTooLarge` when `limit` octets pass without the delimiter", however the body is
    /// cut into pieces: 6 octets before the delimiter with a limit of 4, in two pieces or in one.
    func testGetBodyUntilLimitDoesNotDependOnHowTheBodyIsSegmented() throws {
        let split = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n")
            _ = try await stream.getHeaders(timeout: 1)
            // Let the first chunk arrive alone.
            stream.unget(try await stream.getNextChunk(timeout: 1) ?? [])
            Self.send(peer, "5\r\n&rest\r\n0\r\n\r\n")
            return await thrownError { try await stream.getBodyUntil(Array("&".utf8), limit: 4, timeout: 1) }
        }
        XCTAssertEqual(split as? HTTPStreamError, .bodyTooLarge(limit: 4))
        let whole = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nabcdef&rest")
            _ = try await stream.getHeaders(timeout: 1)
            return await thrownError { try await stream.getBodyUntil(Array("&".utf8), limit: 4, timeout: 1) }
        }
        XCTAssertEqual(whole as? HTTPStreamError, .bodyTooLarge(limit: 4), "6 octets passed without the delimiter")
    }

    /// `limit` octets before the delimiter are within the limit, also when the first piece ends
    /// past the limit with the start of a longer delimiter.
    func testGetBodyUntilAcceptsLimitOctetsBeforeADelimiterSplitAcrossPieces() throws {
        let line = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcd\r\r\n")
            _ = try await stream.getHeaders(timeout: 1)
            stream.unget(try await stream.getNextChunk(timeout: 1) ?? [])
            Self.send(peer, "3\r\n\nxy\r\n0\r\n\r\n")
            return Self.text(try await stream.getBodyUntil(Array("\r\n".utf8), limit: 4, timeout: 1))
        }
        XCTAssertEqual(line, "abcd")
    }

    // MARK: - A declared length left over the limit

    /// The buffering helpers refuse at once, reading nothing, when what is left of a
    /// `content-length` body is over their limit: the length less what was taken, plus what was
    /// put back. Here 3 of 10 octets came and were taken (7 left), then put back (10 left).
    func testWhatIsLeftOfADeclaredLengthIsRefusedBeforeReading() throws {
        let (afterTaking, afterPuttingBack, callback, whole) = try withResponse { stream, peer in
            Self.send(peer, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            _ = try await stream.getHeaders(timeout: 1)
            let taken = try await stream.getBodyChars(3, timeout: 1) ?? []
            let afterTaking = await thrownError { try await stream.getBodyAsBytes(limit: 6, timeout: 1) }
            stream.unget(taken)
            let afterPuttingBack = await thrownError { try await stream.getBodyAsBytes(limit: 9, timeout: 1) }
            let callback: Result<String, any Error> = try await stream.reactor.suspend("callback") { suspension in
                stream.getBodyAsString(limit: 9, timeout: 1) { suspension.resume(returning: $0) }
                return nil
            }
            Self.send(peer, "defghij")
            let whole = Self.text(try await stream.getBodyAsBytes(limit: 10, timeout: 1))
            return (afterTaking, afterPuttingBack, callback, whole)
        }
        XCTAssertEqual(afterTaking as? HTTPStreamError, .bodyTooLarge(limit: 6), "7 octets are left")
        XCTAssertEqual(afterPuttingBack as? HTTPStreamError, .bodyTooLarge(limit: 9), "10 octets are left")
        XCTAssertThrowsError(try callback.get()) { XCTAssertEqual($0 as? HTTPStreamError, .bodyTooLarge(limit: 9)) }
        XCTAssertEqual(whole, "abcdefghij", "a helper refused up front took nothing")
    }

    // MARK: - The deadline of a helper whose body is queued

    /// A helper whose deadline passed still hands over what is queued (lua-http passes the time
    /// left to `get_next_chunk`, which returns buffered data first): it times out only when it
    /// has to wait.
    func testHelpersHandOverQueuedOctetsWhateverTheirTimeout() throws {
        let (chars, until, rest) = try withResponse { stream, peer in
            try await Self.queueWholeBody(stream, peer)
            return (
                Self.text(try await stream.getBodyChars(1, timeout: 0)),
                Self.text(try await stream.getBodyUntil(Array("l".utf8), timeout: 0)),
                Self.text(try await stream.getBodyAsBytes(timeout: 0))
            )
        }
        XCTAssertEqual([chars, until, rest], ["h", "e", "lo"])
    }

    func testGetBodyAsStringCallbackHandsOverQueuedOctetsWhateverItsTimeout() throws {
        let body = try withResponse { stream, peer in
            try await Self.queueWholeBody(stream, peer)
            return try await stream.reactor.suspend("callback") { suspension in
                stream.getBodyAsString(timeout: 0) { suspension.resume(returning: $0) }
                return nil
            }.get()
        }
        XCTAssertEqual(body, "hello")
    }

    // MARK: - writeBody's offset

    /// An offset past the largest file offset (`off_t` is signed) is an error, not a trap.
    func testWriteBodyFromAFileRefusesAnOffsetPastTheLargestFileOffset() throws {
        let failures = try withResponse { stream, _ in
            let file = try BodyFile(reading: "/dev/null")
            var failures: [String] = []
            for offset in [UInt64(1) << 63, UInt64.max] {
                let failure = await thrownError { try await stream.writeBody(from: file, offset: offset, timeout: 1) }
                failures.append(failure.map { "\($0)" } ?? "nil")
            }
            return failures
        }
        XCTAssertEqual(
            failures,
            [
                "writeBody: offset 9223372036854775808 is past the largest file offset, 9223372036854775807",
                "writeBody: offset 18446744073709551615 is past the largest file offset, 9223372036854775807",
            ])
    }
}
