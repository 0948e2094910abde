import Glibc

// HTTP dates (RFC 9110 §5.6.7): IMF-fixdate out, all three forms in. The calendar arithmetic is
// done here (proleptic Gregorian calendar, UTC, no leap seconds, as POSIX time is), without
// Foundation.

extension HTTPUtil {
    private static let dayNames: [String] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let longDayNames: [String] = [
        "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
    ]
    private static let monthNames: [String] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]

    /// `secondsSinceEpoch` as an IMF-fixdate, the form HTTP senders must use:
    /// `Sun, 06 Nov 1994 08:49:37 GMT`. Meant for years 0000–9999 (a 4-digit year); outside them
    /// the year is printed with as many digits as it needs.
    public static func imfFixdate(_ secondsSinceEpoch: Int) -> String {
        let (days, secondOfDay) = floorDivide(secondsSinceEpoch, 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        let weekday = floorDivide(days + 4, 7).remainder  // 1970-01-01 was a Thursday (4)
        var out: [UInt8] = []
        out.reserveCapacity(29)
        out.append(contentsOf: dayNames[weekday].utf8)
        out.append(contentsOf: ", ".utf8)
        appendTwoDigits(day, to: &out)
        out.append(UInt8(ascii: " "))
        out.append(contentsOf: monthNames[month - 1].utf8)
        out.append(UInt8(ascii: " "))
        if year >= 0 && year <= 9999 {
            appendTwoDigits(year / 100, to: &out)
            appendTwoDigits(year % 100, to: &out)
        } else {
            out.append(contentsOf: String(year).utf8)
        }
        out.append(UInt8(ascii: " "))
        appendTwoDigits(secondOfDay / 3600, to: &out)
        out.append(UInt8(ascii: ":"))
        appendTwoDigits(secondOfDay / 60 % 60, to: &out)
        out.append(UInt8(ascii: ":"))
        appendTwoDigits(secondOfDay % 60, to: &out)
        out.append(contentsOf: " GMT".utf8)
        return String(decoding: out, as: UTF8.self)
    }

    /// The current time as an IMF-fixdate (for a `Date` header; servers sending many responses
    /// should use `HTTPDateCache`).
    public static func imfFixdate() -> String {
        imfFixdate(Int(time(nil)))
    }

    /// Parses an HTTP-date in any of the three forms RFC 9110 §5.6.7 requires recipients to accept,
    /// into seconds since the Unix epoch:
    /// - IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`
    /// - obsolete RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` — the two-digit year is read as the
    ///   nearest such year that is not more than 50 years after `now` (RFC 9110's rule);
    /// - obsolete asctime: `Sun Nov  6 08:49:37 1994`.
    ///
    /// HTTP-date is case-sensitive and the forms are fixed, so parsing is strict: exact day and
    /// month names, single spaces, two-digit fields, `GMT`. Leading and trailing spaces and tabs
    /// are ignored. The weekday must be a valid name but is not checked against the date. Seconds
    /// may be 60 (a leap second, counted as the next second, as POSIX time does).
    ///
    /// - Parameter now: the current time in seconds since the epoch, for the RFC 850 year rule;
    ///   nil means the system clock.
    /// - Returns: nil when `text` is none of the three forms or names an impossible date.
    public static func parseHTTPDate(_ text: String, now: Int? = nil) -> Int? {
        var bytes = Array(text.utf8)
        while let last = bytes.last, last == 0x20 || last == 0x09 { bytes.removeLast() }
        let leading = bytes.prefix { $0 == 0x20 || $0 == 0x09 }.count
        if leading > 0 { bytes.removeFirst(leading) }
        var scanner = DateScanner(bytes: bytes)
        if bytes.count == 29, bytes[3] == UInt8(ascii: ",") {
            return scanner.imfFixdate()
        }
        if bytes.count == 24, bytes[3] == UInt8(ascii: " ") {
            return scanner.asctime()
        }
        return scanner.rfc850(now: now ?? Int(time(nil)))
    }

    // MARK: - Calendar arithmetic

    /// Floor division and its non-negative remainder.
    @inline(__always)
    static func floorDivide(_ a: Int, _ b: Int) -> (quotient: Int, remainder: Int) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    /// Days from 1970-01-01 to `year`-`month`-`day` (proleptic Gregorian). Works in 400-year
    /// cycles, with the year starting in March so that the leap day is the cycle's last day.
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let marchYear = month <= 2 ? year - 1 : year
        let (cycle, yearOfCycle) = floorDivide(marchYear, 400)
        let monthFromMarch = (month + 9) % 12  // March = 0 … February = 11
        // Days before each month counted from March: 31,30,31,30,31,31,30,31,30,31,31 → 153 per 5.
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfCycle = yearOfCycle * 365 + yearOfCycle / 4 - yearOfCycle / 100 + dayOfYear
        // 146097 days per 400 years; 719468 days from 0000-03-01 to 1970-01-01.
        return cycle * 146_097 + dayOfCycle - 719_468
    }

    /// The inverse of `daysSinceEpoch`.
    static func civilDate(daysSinceEpoch days: Int) -> (year: Int, month: Int, day: Int) {
        let (cycle, dayOfCycle) = floorDivide(days + 719_468, 146_097)
        // Years into the cycle: remove the leap days (every 4th year but not every 100th, except the
        // 400th, which is the cycle's last day).
        let yearOfCycle =
            (dayOfCycle - dayOfCycle / 1460 + dayOfCycle / 36524 - dayOfCycle / 146_096) / 365
        let dayOfYear = dayOfCycle - (365 * yearOfCycle + yearOfCycle / 4 - yearOfCycle / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        let year = cycle * 400 + yearOfCycle + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    static func isLeapYear(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeapYear(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    @inline(__always)
    private static func appendTwoDigits(_ value: Int, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "0") + UInt8(value / 10))
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// Reads the fixed-layout fields of an HTTP-date.
    fileprivate struct DateScanner {
        let bytes: [UInt8]
        var position = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func literal(_ s: String) -> Bool {
            for byte in s.utf8 {
                guard position < bytes.count, bytes[position] == byte else { return false }
                position += 1
            }
            return true
        }

        /// Index of the first name in `names` that matches here.
        mutating func name(_ names: [String]) -> Int? {
            for (i, name) in names.enumerated() {
                let saved = position
                if literal(name) { return i }
                position = saved
            }
            return nil
        }

        mutating func digits(_ count: Int) -> Int? {
            var value = 0
            for _ in 0..<count {
                guard position < bytes.count else { return nil }
                let byte = bytes[position]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                position += 1
            }
            return value
        }

        var atEnd: Bool { position == bytes.count }

        /// `HH:MM:SS`
        mutating func timeOfDay() -> Int? {
            guard let h = digits(2), literal(":"), let m = digits(2), literal(":"), let s = digits(2),
                h <= 23, m <= 59, s <= 60
            else { return nil }
            return h * 3600 + m * 60 + s
        }

        /// `Sun, 06 Nov 1994 08:49:37 GMT`
        mutating func imfFixdate() -> Int? {
            guard name(HTTPUtil.dayNames) != nil, literal(", "), let day = digits(2), literal(" "),
                let month = name(HTTPUtil.monthNames), literal(" "), let year = digits(4), literal(" "),
                let time = timeOfDay(), literal(" GMT"), atEnd
            else { return nil }
            return HTTPUtil.timestamp(year: year, month: month + 1, day: day, secondOfDay: time)
        }

        /// `Sunday, 06-Nov-94 08:49:37 GMT`
        mutating func rfc850(now: Int) -> Int? {
            guard name(HTTPUtil.longDayNames) != nil, literal(", "), let day = digits(2), literal("-"),
                let month = name(HTTPUtil.monthNames), literal("-"), let twoDigitYear = digits(2),
                literal(" "),
                let time = timeOfDay(), literal(" GMT"), atEnd
            else { return nil }
            // RFC 9110 §5.6.7: a two-digit year that "appears to be more than 50 years in the future"
            // means "the most recent year in the past that had the same last two digits".
            // The rule is about the timestamp, not the year: compared field by field with the same
            // moment 50 years on (so that a date the calendar lacks in one century is no trouble).
            let (nowDays, nowSecond) = HTTPUtil.floorDivide(now, 86_400)
            let current = HTTPUtil.civilDate(daysSinceEpoch: nowDays)
            var year = HTTPUtil.floorDivide(current.year, 100).quotient * 100 + twoDigitYear
            let fiftyYearsOn = (current.year + 50, current.month, current.day, nowSecond)
            if (year, month + 1, day, time) > fiftyYearsOn { year -= 100 }
            return HTTPUtil.timestamp(year: year, month: month + 1, day: day, secondOfDay: time)
        }

        /// `Sun Nov  6 08:49:37 1994` (the day is space-padded, or two digits)
        mutating func asctime() -> Int? {
            guard name(HTTPUtil.dayNames) != nil, literal(" "), let month = name(HTTPUtil.monthNames),
                literal(" ")
            else { return nil }
            let day: Int
            if literal(" ") {
                guard let d = digits(1) else { return nil }
                day = d
            } else {
                guard let d = digits(2) else { return nil }
                day = d
            }
            guard literal(" "), let time = timeOfDay(), literal(" "), let year = digits(4), atEnd else {
                return nil
            }
            return HTTPUtil.timestamp(year: year, month: month + 1, day: day, secondOfDay: time)
        }
    }

    private static func timestamp(year: Int, month: Int, day: Int, secondOfDay: Int) -> Int? {
        guard day >= 1, day <= daysInMonth(year: year, month: month) else { return nil }
        return daysSinceEpoch(year: year, month: month, day: day) * 86_400 + secondOfDay
    }
}

/// Formats the `Date` header for a server: the IMF-fixdate string is rebuilt at most once per
/// second and reused in between. One per reactor (or per thread); it is a value type, so share it
/// by keeping it in the object that writes responses.
public struct HTTPDateCache: Sendable {
    private var second = Int.min
    private var cached = ""
    private var cachedOctets = IMFFixdate.epoch
    /// How many times a string was formatted (for tests and curiosity).
    public private(set) var formatCount = 0

    public init() {}

    /// The IMF-fixdate for `secondsSinceEpoch`, reformatted only when the second changed since the
    /// last call.
    public mutating func imfFixdate(at secondsSinceEpoch: Int) -> String {
        refresh(secondsSinceEpoch)
        return cached
    }

    /// The IMF-fixdate for now (`time(nil)`, the real-time clock).
    public mutating func imfFixdate() -> String {
        imfFixdate(at: Int(time(nil)))
    }

    /// The IMF-fixdate for now as octets held inline: what a server writes per response, at no
    /// reference counting (a `String` is retained and released on its way to the wire).
    public mutating func imfFixdateOctets() -> IMFFixdate {
        refresh(Int(time(nil)))
        return cachedOctets
    }

    private mutating func refresh(_ secondsSinceEpoch: Int) {
        guard secondsSinceEpoch != second else { return }
        second = secondsSinceEpoch
        cached = HTTPUtil.imfFixdate(secondsSinceEpoch)
        cachedOctets = IMFFixdate(cached) ?? .epoch
        formatCount += 1
    }
}

/// An IMF-fixdate (RFC 9110 §5.6.7), such as `Sun, 06 Nov 1994 08:49:37 GMT`: its 29 US-ASCII
/// octets, held inline. A plain value, so copying it costs no reference counting.
public struct IMFFixdate: Sendable, Hashable, CustomStringConvertible {
    /// The length of every IMF-fixdate.
    public static let count = 29
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    /// `text` when it is an IMF-fixdate (as `HTTPUtil.parseHTTPDate` reads one, and written back
    /// the same), else nil.
    public init?(_ text: String) {
        let octets = Array(text.utf8)
        guard octets.count == Self.count, let seconds = HTTPUtil.parseHTTPDate(text),
            HTTPUtil.imfFixdate(seconds) == text
        else { return nil }
        Swift.withUnsafeMutableBytes(of: &words) { $0.copyBytes(from: octets) }
    }

    /// 1 Jan 1970, which a cache holds before its first use.
    static let epoch = IMFFixdate("Thu, 01 Jan 1970 00:00:00 GMT")!

    /// Calls `body` with the 29 octets.
    @inline(__always)
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try Swift.withUnsafeBytes(of: words) { try body(UnsafeRawBufferPointer(rebasing: $0[..<Self.count])) }
    }

    public var description: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    public static func == (a: IMFFixdate, b: IMFFixdate) -> Bool {
        a.words.0 == b.words.0 && a.words.1 == b.words.1 && a.words.2 == b.words.2 && a.words.3 == b.words.3
    }

    public func hash(into hasher: inout Hasher) { withUnsafeBytes { hasher.combine(bytes: $0) } }
}
