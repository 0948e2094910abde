import Glibc
import Logging

/// Everything `stepwise serve` writes to stderr once it serves (the request log, the library's
/// log messages, the signal notices) goes through this one `LineWriter`: whole lines, in order,
/// never interleaved, and never a blocking write on the reactor's thread.
enum StandardError {
    static let writer = LineWriter(fd: 2)
}

/// swift-log messages as lines on `StandardError.writer`:
/// `2026-11-21T18:41:25Z error stepwise.server: message [key: value]`.
struct StandardErrorLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields =
            merged.isEmpty
            ? "" : " [" + merged.sorted { $0.key < $1.key }.map { "\($0): \($1)" }.joined(separator: ", ") + "]"
        StandardError.writer.append("\(Self.timestamp()) \(event.level) \(label): \(event.message)\(fields)\n")
    }

    /// UTC, to the second (ISO 8601).
    private static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(decoding: buffer.prefix(count).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
