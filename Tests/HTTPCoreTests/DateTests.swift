import Glibc
import TestSupport
import XCTest

@testable import HTTPCore

final class DateTests: XCTestCase {
    /// The example instant of RFC 9110 §5.6.7: Sun, 06 Nov 1994 08:49:37 GMT.
    private let rfcExample = 784_111_777

    /// The C library's rendering, as the oracle.
    private func strftimeIMF(_ t: Int) -> String {
        var time = time_t(t)
        var tm = tm()
        gmtime_r(&time, &tm)
        var buffer = [CChar](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%a, %d %b %04Y %H:%M:%S GMT", &tm)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // lua-http: "generates correct looking Date header format"
    func testIMFFixdate() {
        XCTAssertEqual(HTTPUtil.imfFixdate(1_234_567_890), "Fri, 13 Feb 2009 23:31:30 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(rfcExample), "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(-1), "Wed, 31 Dec 1969 23:59:59 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(253_402_300_799), "Fri, 31 Dec 9999 23:59:59 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(-62_167_219_200), "Sat, 01 Jan 0000 00:00:00 GMT")
        XCTAssertEqual(HTTPUtil.imfFixdate(-2_208_988_800), "Mon, 01 Jan 1900 00:00:00 GMT")
    }

    func testIMFFixdateMatchesTheCLibraryAcrossTheFourDigitYears() {
        var rng = SplitMix64(seed: 7)
        let low = -62_167_219_200  // 0000-01-01
        let high = 253_402_300_799  // 9999-12-31 23:59:59
        var samples = [low, high, 0, 68_169_600, 4_107_542_400, 946_684_799, 946_684_800]
        for _ in 0..<20_000 { samples.append(low + Int(rng.next() % UInt64(high - low + 1))) }
        for t in samples {
            XCTAssertEqual(HTTPUtil.imfFixdate(t), strftimeIMF(t), "t = \(t)")
        }
    }

    func testCalendarConversionsAreInverse() {
        for days in stride(from: -800_000, through: 3_000_000, by: 997) {
            let (y, m, d) = HTTPUtil.civilDate(daysSinceEpoch: days)
            XCTAssertEqual(HTTPUtil.daysSinceEpoch(year: y, month: m, day: d), days)
            XCTAssertTrue((1...12).contains(m))
            XCTAssertTrue((1...HTTPUtil.daysInMonth(year: y, month: m)).contains(d))
        }
    }

    func testTheThreeFormsOfTheRFCExample() {
        XCTAssertEqual(HTTPUtil.parseHTTPDate("Sun, 06 Nov 1994 08:49:37 GMT"), rfcExample)
        XCTAssertEqual(HTTPUtil.parseHTTPDate("Sunday, 06-Nov-94 08:49:37 GMT"), rfcExample)
        XCTAssertEqual(HTTPUtil.parseHTTPDate("Sun Nov  6 08:49:37 1994"), rfcExample)
        XCTAssertEqual(HTTPUtil.parseHTTPDate("Wed Nov 16 08:49:37 1994"), rfcExample + 10 * 86_400)
    }

    func testParseRoundTripsFormat() {
        var rng = SplitMix64(seed: 99)
        for _ in 0..<20_000 {
            let t = Int(rng.next() % 253_402_300_800)
            XCTAssertEqual(HTTPUtil.parseHTTPDate(HTTPUtil.imfFixdate(t)), t)
        }
        let now = Int(time(nil))
        XCTAssertEqual(HTTPUtil.parseHTTPDate(HTTPUtil.imfFixdate()).map { abs($0 - now) <= 2 }, true)
    }

    func testRFC850TwoDigitYears() {
        let in2026 = HTTPUtil.parseHTTPDate("Thu, 01 Jan 2026 00:00:00 GMT")!
        func year(_ text: String, now: Int) -> Int? {
            HTTPUtil.parseHTTPDate(text, now: now).map {
                HTTPUtil.civilDate(daysSinceEpoch: $0 / 86_400).year
            }
        }
        XCTAssertEqual(year("Sunday, 06-Nov-94 08:49:37 GMT", now: in2026), 1994)
        XCTAssertEqual(year("Monday, 06-Nov-30 08:49:37 GMT", now: in2026), 2030)
        // The rule is about the timestamp: 2076-01-01 00:00:00 is exactly 50 years on, a second
        // later is more.
        XCTAssertEqual(
            year("Wednesday, 01-Jan-76 00:00:00 GMT", now: in2026), 2076, "exactly 50 years ahead is kept")
        XCTAssertEqual(
            year("Wednesday, 01-Jan-76 00:00:01 GMT", now: in2026), 1976, "a second more than 50 years ahead")
        XCTAssertEqual(year("Monday, 06-Nov-76 08:49:37 GMT", now: in2026), 1976, "more than 50 years ahead")
        XCTAssertEqual(
            year("Monday, 06-Nov-77 08:49:37 GMT", now: in2026), 1977, "more than 50 years ahead")
        XCTAssertEqual(year("Monday, 06-Nov-00 08:49:37 GMT", now: in2026), 2000)
        let in2090 = HTTPUtil.parseHTTPDate("Sun, 01 Jan 2090 00:00:00 GMT")!
        // The rule only moves far-future years back; "10" read in 2090's century is in the past.
        XCTAssertEqual(year("Monday, 06-Nov-10 08:49:37 GMT", now: in2090), 2010)
        XCTAssertEqual(year("Monday, 06-Nov-94 08:49:37 GMT", now: in2090), 2094)
    }

    func testLeapDaysAndLeapSeconds() {
        XCTAssertEqual(HTTPUtil.parseHTTPDate("Tue, 29 Feb 2000 00:00:00 GMT"), 951_782_400)
        XCTAssertNil(HTTPUtil.parseHTTPDate("Thu, 29 Feb 2001 00:00:00 GMT"))
        XCTAssertNil(HTTPUtil.parseHTTPDate("Thu, 29 Feb 1900 00:00:00 GMT"))
        XCTAssertNil(HTTPUtil.parseHTTPDate("Mon, 31 Apr 2000 00:00:00 GMT"))
        XCTAssertEqual(
            HTTPUtil.parseHTTPDate("Sat, 31 Dec 2016 23:59:60 GMT"),
            HTTPUtil.parseHTTPDate("Sun, 01 Jan 2017 00:00:00 GMT"))
    }

    func testSurroundingWhitespaceIsIgnored() {
        XCTAssertEqual(HTTPUtil.parseHTTPDate(" \tSun, 06 Nov 1994 08:49:37 GMT \t"), rfcExample)
        XCTAssertEqual(HTTPUtil.parseHTTPDate("  Sun Nov  6 08:49:37 1994 "), rfcExample)
    }

    func testMalformedDatesAreRejected() {
        let bad = [
            "", "GMT", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
            "sun, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 NOV 1994 08:49:37 GMT",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun,  06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
            "Sun, 00 Nov 1994 08:49:37 GMT",
            "Sun, 32 Jan 1994 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMTX",
            "Xyz, 06 Nov 1994 08:49:37 GMT", "Sunday, 06 Nov 1994 08:49:37 GMT",
            "Sun, 06-Nov-94 08:49:37 GMT",
            "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 6-Nov-94 08:49:37 GMT",
            "Sun Nov 6 08:49:37 1994",
            "Sun Nov  6 08:49:37 94", "Sun Nov 06 08:49:37  1994", "Sunday Nov  6 08:49:37 1994",
            "Sun Nov  6 08:49:37 1994 GMT", "1994-11-06T08:49:37Z", "784111777",
            "Sun, 06 Nov 1994 08:49:37 GMT\0",
            "Sun, 06 Nov 1994 08:49:37\u{A0}GMT",
        ]
        for text in bad {
            XCTAssertNil(HTTPUtil.parseHTTPDate(text), text)
        }
        // asctime's day is ( 2DIGIT / ( SP DIGIT ) ), so a leading zero is fine too.
        XCTAssertEqual(HTTPUtil.parseHTTPDate("Sun Nov 06 08:49:37 1994"), rfcExample)
    }

    func testDateCacheFormatsAtMostOncePerSecond() {
        var cache = HTTPDateCache()
        XCTAssertEqual(cache.formatCount, 0)
        XCTAssertEqual(cache.imfFixdate(at: rfcExample), "Sun, 06 Nov 1994 08:49:37 GMT")
        for _ in 0..<100 { _ = cache.imfFixdate(at: rfcExample) }
        XCTAssertEqual(cache.formatCount, 1)
        XCTAssertEqual(cache.imfFixdate(at: rfcExample + 1), "Sun, 06 Nov 1994 08:49:38 GMT")
        XCTAssertEqual(cache.formatCount, 2)
        XCTAssertEqual(
            cache.imfFixdate(at: rfcExample), "Sun, 06 Nov 1994 08:49:37 GMT", "clock stepped back")
        XCTAssertEqual(cache.formatCount, 3)
        let now = cache.imfFixdate()
        XCTAssertEqual(HTTPUtil.parseHTTPDate(now).map { abs($0 - Int(time(nil))) <= 2 }, true)
    }

    func testTheCachesOctetsAreItsString() {
        var cache = HTTPDateCache()
        let octets = cache.imfFixdateOctets()
        let text = cache.imfFixdate()
        // Within the same second both come from one formatting (a second may tick in between).
        if cache.formatCount == 1 { XCTAssertEqual(octets.description, text) }
        XCTAssertEqual(HTTPUtil.parseHTTPDate(octets.description).map { abs($0 - Int(time(nil))) <= 2 }, true)
    }

    func testIMFFixdateHoldsExactlyAnIMFFixdate() {
        let example = IMFFixdate("Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(example?.description, "Sun, 06 Nov 1994 08:49:37 GMT")
        XCTAssertEqual(example?.withUnsafeBytes { Array($0) }, Array("Sun, 06 Nov 1994 08:49:37 GMT".utf8))
        XCTAssertEqual(example, IMFFixdate(HTTPUtil.imfFixdate(rfcExample)))
        XCTAssertNotEqual(example, IMFFixdate(HTTPUtil.imfFixdate(rfcExample + 1)))
        for text in [
            "", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994", "Sun, 06 Nov 1994 08:49:37 GMT ",
            "Mon, 06 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 GMT\r\nx: y",
        ] {
            XCTAssertNil(IMFFixdate(text), text)
        }
    }
}
