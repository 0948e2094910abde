import Foundation
import Stepwise

#if canImport(Glibc)
    import Glibc
#endif

// One accepted connection of the hostile-server soak's raw server (`SoakServer`), plain or TLS.
// Over TLS it is a blocking driver of a server `TLSEngine` on the server's thread, which leaves
// the test in charge of what goes on the wire: each plaintext write becomes its own records, and
// their ciphertext can be sent in small pieces, cut inside a record, or followed by close_notify
// and then more octets, or by a close without close_notify.
final class SoakChannel {
    let fd: Int32
    private let engine: TLSEngine?

    /// Plain TCP on `fd`, or TLS with `tls`, whose handshake runs now; nil when it fails.
    init?(fd: Int32, tls: TLSContext?) {
        self.fd = fd
        guard let tls else {
            engine = nil
            return
        }
        guard let engine = try? TLSEngine(context: tls, role: .server) else { return nil }
        self.engine = engine
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            guard let state = try? engine.handshake(), flushCiphertext() else { return nil }
            if state == .complete { break }
            let got = recv(fd, &buffer, buffer.count, 0)
            guard got > 0 else { return nil }
            buffer.withUnsafeBytes { engine.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
        }
    }

    /// Appends what the client sent next (plaintext); false once it is gone, or sent close_notify.
    func receive(_ input: inout [UInt8]) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        guard let engine else {
            let got = recv(fd, &buffer, buffer.count, 0)
            guard got > 0 else { return false }
            input += buffer[..<got]
            return true
        }
        while true {
            let result = try? buffer.withUnsafeMutableBytes { try engine.read(into: $0) }
            switch result {
            case .bytes(let count)?:
                input += buffer[..<count]
                return true
            case .needsMoreInput?:
                guard flushCiphertext() else { return false }
                let got = recv(fd, &buffer, buffer.count, 0)
                if got > 0 {
                    buffer.withUnsafeBytes { engine.receiveCiphertext(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
                } else if got == 0 {
                    engine.receivedEOF()
                } else {
                    return false
                }
            default:
                return false
            }
        }
    }

    /// Sends `bytes`: as they are, or over TLS as records whose ciphertext goes in one write, or
    /// in writes of up to `piece` octets each with pauses of up to `pause` microseconds between
    /// them (their sizes and pauses drawn from `seed`). False once the client is gone.
    /// With `closing`, TLS close_notify goes right behind the records, in the same write.
    @discardableResult
    func send(_ bytes: [UInt8], piece: Int? = nil, pause: UInt32 = 0, seed: UInt64 = 0, closing: Bool = false)
        -> Bool
    {
        guard let engine else { return RawPeer.send(bytes, to: fd) }
        guard (try? engine.write(bytes)) == bytes.count || bytes.isEmpty else { return false }
        if closing { engine.shutdown() }
        guard let piece else { return flushCiphertext() }
        var ciphertext: [UInt8] = []
        engine.takeCiphertext(into: &ciphertext)
        var random = SoakRandom(seed: seed)
        var offset = 0
        while offset < ciphertext.count {
            let end = min(ciphertext.count, offset + Int.random(in: 1...piece, using: &random))
            guard RawPeer.send(Array(ciphertext[offset..<end]), to: fd) else { return false }
            offset = end
            if pause > 0 && offset < ciphertext.count { usleep(UInt32.random(in: 0...pause, using: &random)) }
        }
        return true
    }

    /// Over TLS: encrypts `bytes` and sends their ciphertext only up to `fraction` of it (at
    /// least one octet short of its end, so the last record is cut); plain: sends that much of
    /// `bytes`. False once the client is gone.
    @discardableResult
    func sendCut(_ bytes: [UInt8], fraction: Double) -> Bool {
        var wire = bytes
        if let engine {
            guard (try? engine.write(bytes)) == bytes.count else { return false }
            wire = []
            engine.takeCiphertext(into: &wire)
        }
        guard wire.count > 1 else { return true }
        let cut = min(wire.count - 1, max(1, Int(Double(wire.count) * fraction)))
        return RawPeer.send(Array(wire[..<cut]), to: fd)
    }

    /// Over TLS: encrypts `bytes` and sends their ciphertext with one bit flipped inside the first
    /// record's protected part (`at` and `bit` pick which), so that the record fails its
    /// authentication; plain: sends `bytes`. False once the client is gone.
    @discardableResult
    func sendTampered(_ bytes: [UInt8], at fraction: Double, bit: Int) -> Bool {
        guard let engine else { return RawPeer.send(bytes, to: fd) }
        guard (try? engine.write(bytes)) == bytes.count else { return false }
        var wire: [UInt8] = []
        engine.takeCiphertext(into: &wire)
        // A record: type, version (2 octets), length (2 octets), then what the length says.
        let length = Int(wire[3]) << 8 | Int(wire[4])
        let at = 5 + min(length - 1, Int(Double(length) * fraction))
        wire[at] ^= UInt8(1) << UInt8(bit & 7)
        return RawPeer.send(wire, to: fd)
    }

    /// Sends TLS close_notify (nothing on a plain connection).
    @discardableResult
    func sendCloseNotify() -> Bool {
        engine?.shutdown()
        return flushCiphertext()
    }

    /// Sends `bytes` as they are, outside any record.
    @discardableResult
    func sendRaw(_ bytes: [UInt8]) -> Bool { RawPeer.send(bytes, to: fd) }

    private func flushCiphertext() -> Bool {
        guard let engine, engine.hasCiphertextToSend else { return true }
        var ciphertext: [UInt8] = []
        engine.takeCiphertext(into: &ciphertext)
        return RawPeer.send(ciphertext, to: fd)
    }
}
