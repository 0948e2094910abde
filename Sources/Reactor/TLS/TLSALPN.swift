internal import COpenSSL

/// ALPN (RFC 7301) protocol lists.
enum TLSALPN {
    /// The protocol-list wire format: each name prefixed by its one-byte length, e.g. `\x02h2\x08http/1.1`.
    static func wireFormat(_ protocols: [String]) throws -> [UInt8] {
        var wire: [UInt8] = []
        for name in protocols {
            let bytes = Array(name.utf8)
            guard (1...255).contains(bytes.count) else {
                throw TLSError(
                    kind: .configuration,
                    reason: "invalid ALPN protocol name \"\(name)\": must be 1 to 255 bytes")
            }
            wire.append(UInt8(bytes.count))
            wire.append(contentsOf: bytes)
        }
        guard wire.count <= 0xFFFF else {
            throw TLSError(kind: .configuration, reason: "ALPN protocol list longer than 65535 bytes")
        }
        return wire
    }
}

/// A server's ALPN preferences, reached from OpenSSL's select callback through its `arg` pointer.
/// The owning `TLSContext` keeps it alive as long as the `SSL_CTX`.
final class TLSALPNSelector {
    /// The server's protocols, most preferred first.
    let protocols: [[UInt8]]

    init?(_ protocols: [String]) throws {
        guard !protocols.isEmpty else { return nil }
        _ = try TLSALPN.wireFormat(protocols)  // validates the names
        self.protocols = protocols.map { Array($0.utf8) }
    }

    /// The position, inside the client's wire-format list `offered`, of the first server protocol the
    /// client offered; nil when there is none (or the list is malformed).
    func select(from offered: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        for candidate in protocols {
            var index = 0
            while index < offered.count {
                let length = Int(offered[index])
                let start = index + 1
                let end = start + length
                guard length > 0, end <= offered.count else { break }
                if length == candidate.count,
                    UnsafeBufferPointer(rebasing: offered[start..<end]).elementsEqual(candidate)
                {
                    return start..<end
                }
                index = end
            }
        }
        return nil
    }

    /// Installs the selection callback on `context` (an `SSL_CTX*`). `self` must outlive it.
    func install(on context: OpaquePointer) {
        let arg = Unmanaged.passUnretained(self).toOpaque()
        SSL_CTX_set_alpn_select_cb(
            context,
            { _, out, outLength, offered, offeredLength, arg in
                guard let out, let outLength, let offered, let arg else { return SSL_TLSEXT_ERR_NOACK }
                let selector = Unmanaged<TLSALPNSelector>.fromOpaque(arg).takeUnretainedValue()
                let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
                guard let range = selector.select(from: list) else {
                    // No common protocol: continue the handshake without ALPN.
                    return SSL_TLSEXT_ERR_NOACK
                }
                // Points into the client's list, which OpenSSL keeps while it copies the selection.
                out.pointee = offered + range.lowerBound
                outLength.pointee = UInt8(range.count)
                return SSL_TLSEXT_ERR_OK
            }, arg)
    }
}
