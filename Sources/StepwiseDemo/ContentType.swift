/// The media type (RFC 9110 §8.3) `stepwise serve` sends for a file, chosen by its extension.
///
/// Textual types are sent with `; charset=utf-8`: every `text/*` type, and the XML types, whose
/// registrations define a `charset` parameter (RFC 7303 §3.2, §9.1). `application/json` and
/// `application/yaml` get none: their registrations define no `charset` parameter (RFC 8259 §11,
/// RFC 9512 §2.1), both are UTF-8 by definition.
public enum ContentType {
    /// What a file whose extension is not in the table is sent as (RFC 9110 §8.3: a sender that
    /// does not know the type may send `application/octet-stream`).
    public static let fallback = "application/octet-stream"

    /// The media type for a file named with extension `fileExtension` (without the dot), compared
    /// case-insensitively; `fallback` when the extension is unknown.
    public static func forExtension(_ fileExtension: String) -> String {
        mediaTypes[fileExtension.lowercased()] ?? fallback
    }

    /// The media type for the file at `path`, by the extension of its last segment: the text
    /// after the last `.`, when that `.` is not the segment's first character (`.bashrc` has no
    /// extension, `archive.tar.gz` has `gz`).
    public static func forPath(_ path: String) -> String {
        guard let fileExtension = fileExtension(of: path) else { return fallback }
        return forExtension(fileExtension)
    }

    /// The extension of the last segment of `path`, or nil (see `forPath`).
    static func fileExtension(of path: String) -> String? {
        let name = path.split(separator: "/", omittingEmptySubsequences: false).last ?? Substring(path)
        guard let dot = name.lastIndex(of: "."), dot != name.startIndex else { return nil }
        return String(name[name.index(after: dot)...])
    }

    private static let utf8 = "; charset=utf-8"

    /// Lower-case extension → media type.
    private static let mediaTypes: [String: String] = [
        "html": "text/html" + utf8,
        "htm": "text/html" + utf8,
        "css": "text/css" + utf8,
        "js": "text/javascript" + utf8,  // RFC 9239 §6
        "mjs": "text/javascript" + utf8,
        "json": "application/json",
        "txt": "text/plain" + utf8,
        "md": "text/markdown" + utf8,  // RFC 7763
        "xml": "application/xml" + utf8,
        "svg": "image/svg+xml" + utf8,
        "csv": "text/csv" + utf8,  // RFC 4180
        "yaml": "application/yaml",
        "png": "image/png",
        "jpg": "image/jpeg",
        "jpeg": "image/jpeg",
        "gif": "image/gif",
        "webp": "image/webp",
        "ico": "image/vnd.microsoft.icon",
        "wasm": "application/wasm",
        "pdf": "application/pdf",
        "zip": "application/zip",
        "gz": "application/gzip",
        "tar": "application/x-tar",
        "mp4": "video/mp4",
        "webm": "video/webm",
        "mp3": "audio/mpeg",
        "wav": "audio/wav",
        "ogg": "audio/ogg",
        "woff": "font/woff",
        "woff2": "font/woff2",
        "ttf": "font/ttf",
        "otf": "font/otf",
    ]
}
