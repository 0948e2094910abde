import HTTPCore

/// One entry of a directory listing.
public struct DirectoryEntry: Equatable, Sendable {
    /// The file name (one path segment, not encoded).
    public var name: String
    /// Whether the entry is a directory (or a symbolic link to one).
    public var isDirectory: Bool

    public init(name: String, isDirectory: Bool) {
        self.name = name
        self.isDirectory = isDirectory
    }
}

/// The HTML page `stepwise serve` sends for a directory that has no `index.html`.
public enum DirectoryIndex {
    /// The file served in place of a listing when a directory has it.
    public static let indexFileName = "index.html"

    /// The listing of the directory at URL path `urlPath` (decoded, ending in `/`) holding
    /// `entries`, as a UTF-8 HTML document.
    ///
    /// Directories come first, each name followed by `/`; within each group names are sorted by
    /// their UTF-8 bytes (code point order). A `../` link leads to the parent, except at the root
    /// `/`. Links are relative: the name percent-encoded with `encodeURIComponent`, so no name can
    /// become a scheme, a query or another path (RFC 3986 §4.2). Text is HTML-escaped.
    public static func html(urlPath: String, entries: [DirectoryEntry]) -> String {
        let sorted = entries.sorted { a, b in
            if a.isDirectory != b.isDirectory { return a.isDirectory }
            return a.name.utf8.lexicographicallyPrecedes(b.name.utf8)
        }
        let title = "Index of " + escapeHTML(urlPath)
        var page = "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\">\n"
        page += "<title>\(title)</title>\n</head>\n<body>\n<h1>\(title)</h1>\n<ul>\n"
        if urlPath != "/" {
            page += "<li><a href=\"../\">../</a></li>\n"
        }
        for entry in sorted {
            let suffix = entry.isDirectory ? "/" : ""
            let href = HTTPUtil.encodeURIComponent(entry.name) + suffix
            page += "<li><a href=\"\(escapeHTML(href))\">\(escapeHTML(entry.name + suffix))</a></li>\n"
        }
        page += "</ul>\n</body>\n</html>\n"
        return page
    }

    /// `text` with the characters that are markup in HTML text and attribute values replaced by
    /// character references: `&`, `<`, `>`, `"`, `'`.
    public static func escapeHTML(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
