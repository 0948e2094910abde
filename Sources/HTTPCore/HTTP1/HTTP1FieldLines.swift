/// Pass 2 helpers over a section that `HTTP1HeadScanner` has already validated: every line ends
/// with CRLF, every field line has a colon after a non-empty token, and continuation lines (obs-fold)
/// only occur where folding is allowed. So the walk needs no checks, only searches.
struct HTTP1FieldLines {
    struct Line {
        /// The field name as received.
        var name: UnsafeRawBufferPointer
        /// Everything between the colon and the CRLF that ends the field (including continuation
        /// lines when `folded`), untrimmed.
        var rawValue: UnsafeRawBufferPointer
        var folded: Bool
    }

    let block: UnsafeRawBufferPointer
    var position: Int
    /// The offset of the CR of the empty line that ends the section.
    let end: Int
    /// Where pass 1 found each line's colon and CR, when it recorded every line (else empty).
    private let ends: HTTP1FieldLineEnds
    /// The number of lines returned.
    private var index = 0

    init(_ block: UnsafeRawBufferPointer, from start: Int, ends: HTTP1FieldLineEnds = HTTP1FieldLineEnds()) {
        self.block = block
        self.position = start
        self.end = block.count - 2
        self.ends = ends
    }

    mutating func next() -> Line? {
        guard position < end else { return nil }
        let lineStart = position
        if index < ends.count {
            // Recorded by the straight pass, which takes no folded line.
            let (colon, cr) = ends[index]
            index &+= 1
            position = cr &+ 2
            return Line(
                name: UnsafeRawBufferPointer(rebasing: block[lineStart..<colon]),
                rawValue: UnsafeRawBufferPointer(rebasing: block[(colon &+ 1)..<cr]), folded: false)
        }
        // Every field line has a colon after its name (validated), found eight octets at a time.
        var index = HTTP1Syntax.firstIndex(of: HTTP1Syntax.colon, in: block, from: lineStart, to: block.count)
        let name = UnsafeRawBufferPointer(rebasing: block[lineStart..<index])
        let valueStart = index + 1
        index = valueStart
        index = HTTP1Syntax.firstIndex(of: HTTP1Syntax.cr, in: block, from: index, to: block.count)
        var valueEnd = index
        position = index + 2
        var folded = false
        while position < end, HTTP1Syntax.isWhitespace(block[position]) {
            folded = true
            index = position
            index = HTTP1Syntax.firstIndex(of: HTTP1Syntax.cr, in: block, from: index, to: block.count)
            valueEnd = index
            position = index + 2
        }
        return Line(
            name: name, rawValue: UnsafeRawBufferPointer(rebasing: block[valueStart..<valueEnd]),
            folded: folded)
    }

    /// The field value of `line` as a String: OWS trimmed, and each obs-fold (`OWS CRLF RWS`)
    /// replaced by one SP (RFC 9112 §5.2).
    static func value(of line: Line) -> String {
        guard line.folded else {
            return HTTP1Syntax.string(HTTP1Syntax.trimmingWhitespace(line.rawValue))
        }
        return unfolded(line.rawValue).withUnsafeBytes {
            HTTP1Syntax.string(HTTP1Syntax.trimmingWhitespace($0))
        }
    }

    /// `raw` with every `OWS CRLF RWS` replaced by one SP.
    static func unfolded(_ raw: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            if byte == HTTP1Syntax.cr {
                while let last = out.last, HTTP1Syntax.isWhitespace(last) { out.removeLast() }
                out.append(HTTP1Syntax.sp)
                index += 2
                while index < raw.count, HTTP1Syntax.isWhitespace(raw[index]) { index += 1 }
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    /// Calls `body` with each element of a comma-separated list (RFC 9110 §5.6.1), OWS-trimmed.
    /// Empty elements are passed too (as empty buffers); callers decide whether they are allowed.
    /// Commas inside quoted strings are not separators.
    static func forEachListElement(
        _ value: UnsafeRawBufferPointer,
        _ body: (UnsafeRawBufferPointer) throws(HTTP1ParseError) -> Void
    ) throws(HTTP1ParseError) {
        var start = 0
        var index = 0
        var quoted = false
        while index < value.count {
            let byte = value[index]
            if quoted {
                if byte == HTTP1Syntax.backslash {
                    index += 1
                } else if byte == HTTP1Syntax.dquote {
                    quoted = false
                }
            } else if byte == HTTP1Syntax.dquote {
                quoted = true
            } else if byte == HTTP1Syntax.comma {
                try body(
                    HTTP1Syntax.trimmingWhitespace(UnsafeRawBufferPointer(rebasing: value[start..<index])))
                start = index + 1
            }
            index += 1
        }
        try body(
            HTTP1Syntax.trimmingWhitespace(
                UnsafeRawBufferPointer(rebasing: value[start..<min(index, value.count)])))
    }
}
