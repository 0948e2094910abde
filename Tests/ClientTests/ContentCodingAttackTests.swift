import Foundation
import Stepwise
import XCTest

#if canImport(Glibc)
    import Glibc
#endif

/// Content and transfer codings from a hostile or broken server: a small gzip body that decodes
/// to gigabytes meets `bodyLimit` in decoded octets, what `go()` does not decode is handed over
/// with its `content-encoding`, and a coded body cut short is an error, not a shorter success.
final class ContentCodingAttackTests: XCTestCase {
    /// 128 MiB of zeros, gzip-coded: about 128 KiB.
    private static let bomb: [UInt8] = {
        let deflater = Deflater(format: .gzip)
        let zeros = [UInt8](repeating: 0, count: 1 << 20)
        var out: [UInt8] = []
        for index in 0..<128 { try! deflater.process(zeros, final: index == 127, flush: false, into: &out) }
        return out
    }()

    func testAGzipBombStopsFetchAtTheBodyLimitInDecodedOctets() throws {
        XCTAssertLessThan(Self.bomb.count, 1 << 20)
        let server = try Self.serve("content-encoding: gzip", Self.bomb)
        defer { server.stop() }
        let reactor = try Reactor()
        let pool = ConnectionPool(reactor: reactor)
        XCTAssertThrowsError(try server.request(pool: pool).fetch(on: reactor, timeout: 10)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: H1ConnectionOptions().bodyLimit))
        }
        // Closed, or idle when the coded body had all arrived: none left busy.
        XCTAssertEqual(pool.openConnections, pool.idleConnections)
        pool.closeIdle()
        XCTAssertThrowsError(try HTTP.fetch("http://127.0.0.1:\(server.port)/", timeout: 10)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: H1ConnectionOptions().bodyLimit))
        }
    }

    /// The same bomb as a gzip transfer coding (RFC 9112 §7): decoded by the connection, and the
    /// limit is on what the caller gets.
    func testAGzipTransferCodedBombStopsFetchAtTheBodyLimit() throws {
        let chunked = Array("\(String(Self.bomb.count, radix: 16))\r\n".utf8) + Self.bomb + Array("\r\n0\r\n\r\n".utf8)
        let server = try Self.serve("transfer-encoding: gzip, chunked", chunked, length: false)
        defer { server.stop() }
        let reactor = try Reactor()
        XCTAssertThrowsError(try server.request().fetch(on: reactor, timeout: 10)) { error in
            XCTAssertEqual(error as? HTTPStreamError, .bodyTooLarge(limit: H1ConnectionOptions().bodyLimit))
        }
    }

    /// `gzip, gzip, gzip` (RFC 9110 §8.4.1: in the order applied) is not undone: the caller gets
    /// the coded octets and the field that says how they are coded, so nothing is lost and no
    /// chain of codings multiplies the work (curl decodes at most five since CVE-2023-23916).
    func testNestedContentCodingsAreHandedOverCodedWithTheirField() throws {
        var coded = Array("hello".utf8)
        for _ in 0..<3 { coded = try Deflater(format: .gzip).process(coded, final: true) }
        let server = try Self.serve("content-encoding: gzip, gzip, gzip", coded)
        defer { server.stop() }
        let reactor = try Reactor()
        let response = try server.request().fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.headers.first("content-encoding"), "gzip, gzip, gzip")
        XCTAssertEqual(response.body, coded)
    }

    /// A coding this side does not know is not an error: the octets and the field are the
    /// caller's (RFC 9110 §8.4: the coding is part of the representation).
    func testAnUnknownContentCodingIsHandedOverWithItsField() throws {
        let server = try Self.serve("content-encoding: br", Array("not really brotli".utf8))
        defer { server.stop() }
        let reactor = try Reactor()
        let response = try server.request().fetch(on: reactor, timeout: 5)
        XCTAssertEqual(response.headers.first("content-encoding"), "br")
        XCTAssertEqual(response.text, "not really brotli")
    }

    /// A gzip body whose framing is complete but whose gzip stream stops half way (no end, no
    /// CRC) is an error, not the half decoded so far.
    func testATruncatedGzipBodyIsAnError() throws {
        let whole = try Deflater(format: .gzip).process(
            Array(String(repeating: "truncated ", count: 500).utf8), final: true)
        let server = try Self.serve("content-encoding: gzip", Array(whole.prefix(whole.count / 2)))
        defer { server.stop() }
        let reactor = try Reactor()
        XCTAssertThrowsError(try server.request().fetch(on: reactor, timeout: 5)) { error in
            guard case .coding? = error as? HTTPStreamError else { return XCTFail("\(error)") }
        }
    }

    /// RFC 1952 §2.2: "A gzip file consists of a series of 'members'": a second member is read
    /// on; octets after the last that are not one are an error, not ignored.
    func testOctetsAfterTheGzipStreamAreReadOnlyAsAnotherMember() throws {
        let members =
            try Deflater(format: .gzip).process(Array("hel".utf8), final: true)
            + Deflater(format: .gzip).process(Array("lo".utf8), final: true)
        let server = try Self.serve("content-encoding: gzip", members)
        defer { server.stop() }
        let reactor = try Reactor()
        XCTAssertEqual(try server.request().fetch(on: reactor, timeout: 5).text, "hello")
        let garbage = try Deflater(format: .gzip).process(Array("hello".utf8), final: true) + Array("garbage!".utf8)
        let broken = try Self.serve("content-encoding: gzip", garbage)
        defer { broken.stop() }
        XCTAssertThrowsError(try broken.request().fetch(on: reactor, timeout: 5)) { error in
            guard case .coding? = error as? HTTPStreamError else { return XCTFail("\(error)") }
        }
    }

    /// A server answering every request with `fields` and `body` (framed by a content-length
    /// unless `length` is false), keeping the connection.
    private static func serve(_ fields: String, _ body: [UInt8], length: Bool = true) throws -> OneShotServer {
        try OneShotServer { client in
            let framing = length ? "content-length: \(body.count)\r\n" : ""
            while OneShotServer.readRequest(client) {
                guard RawPeer.send(Array("HTTP/1.1 200 OK\r\n\(fields)\r\n\(framing)\r\n".utf8) + body, to: client)
                else { return }
            }
        }
    }
}
