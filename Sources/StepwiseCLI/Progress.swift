import Glibc
import Stepwise

/// The progress bar of `stepwise get`: bytes, rate and (when the length is known) percentage and
/// ETA, redrawn on stderr at most ten times a second. Drawn only when stderr is a terminal
/// (`isatty(2)`) and the body is over 1 MiB.
final class Progress {
    static let threshold: UInt64 = 1 << 20
    let total: UInt64?
    private let enabled = isatty(2) == 1
    private let started = MonotonicClock.seconds()
    private var received: UInt64 = 0
    private var lastDraw = 0.0
    private var drawn = false

    init(total: UInt64?) { self.total = total }

    func add(_ count: Int) {
        received += UInt64(count)
        guard enabled, max(total ?? 0, received) > Progress.threshold else { return }
        let now = MonotonicClock.seconds()
        guard now - lastDraw >= 0.1 else { return }
        lastDraw = now
        draw(now)
    }

    func finish() {
        guard drawn else { return }
        draw(MonotonicClock.seconds())
        writeStderr("\n")
    }

    private func draw(_ now: Double) {
        drawn = true
        let elapsed = max(now - started, 0.001)
        let rate = Double(received) / elapsed
        var line = "\r\(Progress.size(Double(received)))"
        if let total, total > 0 {
            let fraction = min(Double(received) / Double(total), 1)
            let width = 30
            let filled = Int(fraction * Double(width))
            line += " / \(Progress.size(Double(total))) ["
            line += String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            line += "] \(Int(fraction * 100))%"
            let eta = rate > 0 ? Double(total - min(received, total)) / rate : .infinity
            line += "  \(Progress.size(rate))/s  ETA \(Progress.seconds(eta))"
        } else {
            line += "  \(Progress.size(rate))/s"
        }
        writeStderr(line + "\u{1B}[K")
    }

    /// The longest ETA shown: about 115 days. A longer one (a huge `content-length` announced by
    /// a slow server), an infinite one (nothing received yet) or NaN shows as `?`: converting it to
    /// `Int` would trap past `Int.max`, and a bar promising a million years says nothing anyway.
    static let longestETA = 10_000_000.0

    /// `42s` for an ETA of 41.2 seconds; `?` when it is not finite or longer than `longestETA`.
    static func seconds(_ eta: Double) -> String {
        guard eta.isFinite, eta >= 0, eta <= longestETA else { return "?" }
        return "\(Int(eta.rounded(.up)))s"
    }

    /// `512 B`, `3.2 KiB`, `12.0 MiB`, `1.5 GiB`.
    static func size(_ bytes: Double) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = bytes
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        if unit == 0 { return "\(Int(value)) B" }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}

/// Writes `text` to stderr (fd 2) unbuffered.
func writeStderr(_ text: String) {
    try? Get.writeAll(Array(text.utf8), to: 2)
}
