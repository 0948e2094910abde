// Relative path resolution: RFC 3986 §5.2.2 (the path part of "transform references"), §5.2.3
// (merge) and §5.2.4 (remove_dot_segments).

extension HTTPUtil {
    /// Resolves the path `relative` against the path `base`, as RFC 3986 §5.2 does for the path
    /// component of a reference:
    ///
    /// - `relative` starting with `/` replaces `base`; an empty `relative` gives `base` unchanged;
    ///   otherwise `relative` is appended to `base` up to and including its last `/` (§5.2.3 merge).
    /// - Dot segments are then removed (§5.2.4): `.` segments vanish, `..` removes the segment
    ///   before it and is clamped at the root (`/a/../../b` → `/b`).
    /// - A final `.` or `..` leaves a trailing `/` (`/a/b/..` → `/a/`, RFC 3986 §5.4.1 `".."` →
    ///   `"http://a/b/"`); a trailing `/` is kept; a leading `/` is kept and never added, so relative
    ///   bases stay relative (`foo/` + `../bar` → `bar`).
    ///
    /// Only paths: split off any query (`?`) or fragment (`#`) first.
    ///
    /// lua-http's `resolve_relative_path` differs in one respect: it drops the trailing `/` after a
    /// final dot segment (`/foo/` + `.` → `/foo`); this follows the RFC instead.
    public static func resolveRelativePath(base: String, relative: String) -> String {
        if relative.isEmpty { return base }
        let merged: Substring
        if relative.utf8.first == UInt8(ascii: "/") {
            merged = Substring(relative)
        } else if let slash = base.utf8.lastIndex(of: UInt8(ascii: "/")) {
            merged = Substring(base[...slash] + relative)
        } else {
            merged = Substring(relative)
        }
        return removeDotSegments(merged)
    }

    /// RFC 3986 §5.2.4, on segments: equivalent to the RFC's buffer algorithm for absolute paths,
    /// and it keeps relative paths relative. Works on UTF-8 bytes (Character comparison would let a
    /// combining mark after `/` hide the separator).
    static func removeDotSegments(_ path: Substring) -> String {
        let slash = UInt8(ascii: "/")
        let dot = UInt8(ascii: ".")
        let bytes = path.utf8
        let absolute = bytes.first == slash
        let body = absolute ? bytes.dropFirst() : bytes[...]
        var output: [Substring.UTF8View.SubSequence] = []
        var trailingSlash = false
        let segments = body.split(separator: slash, omittingEmptySubsequences: false)
        for (i, segment) in segments.enumerated() {
            let isLast = i == segments.count - 1
            if segment.count == 1 && segment.first == dot {
                if isLast { trailingSlash = true }
            } else if segment.count == 2 && segment.allSatisfy({ $0 == dot }) {
                if !output.isEmpty { output.removeLast() }
                if isLast { trailingSlash = true }
            } else {
                output.append(segment)
            }
        }
        var result: [UInt8] = []
        result.reserveCapacity(bytes.count + 1)
        if absolute { result.append(slash) }
        for (i, segment) in output.enumerated() {
            if i > 0 { result.append(slash) }
            result.append(contentsOf: segment)
        }
        if trailingSlash && !output.isEmpty { result.append(slash) }
        return String(decoding: result, as: UTF8.self)
    }

    /// RFC 3986 §5.2.4's buffer algorithm, step by step: what `URI.resolve` applies. It agrees with
    /// `removeDotSegments` on absolute paths and differs on rootless ones, which the RFC's steps
    /// can make absolute (`a/../b` → `/b`, `a/..` → `/`), where `removeDotSegments` keeps them
    /// relative for `resolveRelativePath`.
    static func removeDotSegmentsAsSpecified(_ path: Substring) -> String {
        let slash = UInt8(ascii: "/")
        var input = ArraySlice(path.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(input.count)
        func removeLastSegment() {
            if let last = output.lastIndex(of: slash) {
                output.removeSubrange(last...)
            } else {
                output.removeAll()
            }
        }
        func startsWith(_ prefix: StaticString) -> Bool {
            prefix.withUTF8Buffer { input.starts(with: $0) }
        }
        func equals(_ whole: StaticString) -> Bool {
            whole.withUTF8Buffer { input.elementsEqual($0) }
        }
        while !input.isEmpty {
            if startsWith("../") {
                // A: remove a leading "../" or "./".
                input.removeFirst(3)
            } else if startsWith("./") {
                input.removeFirst(2)
            } else if startsWith("/./") {
                // B: replace a leading "/./" or a whole "/." with "/".
                input.removeFirst(2)
            } else if equals("/.") {
                input = [slash]
            } else if startsWith("/../") {
                // C: replace a leading "/../" or a whole "/.." with "/", and drop the last output
                // segment with the "/" before it.
                input.removeFirst(3)
                removeLastSegment()
            } else if equals("/..") {
                input = [slash]
                removeLastSegment()
            } else if equals(".") || equals("..") {
                // D: a lone "." or "..".
                input.removeAll()
            } else {
                // E: move the first segment, with its leading "/" if any, to the output.
                var end = input.startIndex
                if input[end] == slash { end += 1 }
                while end < input.endIndex && input[end] != slash { end += 1 }
                output.append(contentsOf: input[..<end])
                input = input[end...]
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
