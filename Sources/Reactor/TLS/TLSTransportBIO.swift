internal import COpenSSL

/// The ciphertext queues between an `SSL` and the I/O layer. OpenSSL reaches them through a custom BIO;
/// the engine reaches them directly.
final class TLSTransport {
    /// Ciphertext received from the peer, not yet read by OpenSSL.
    var inbound = TLSByteQueue()
    /// Ciphertext produced by OpenSSL, not yet taken by the I/O layer.
    var outbound = TLSByteQueue()
    /// The I/O layer saw end of stream: once `inbound` is empty, reads report EOF instead of "retry".
    var inboundEOF = false
}

/// A source/sink `BIO_METHOD` over a `TLSTransport`: OpenSSL writes records straight into `outbound`
/// (one copy, no size limit, so `SSL_write` never reports WANT_WRITE) and reads from `inbound`.
///
/// The BIO's data pointer is an unretained `TLSTransport`; the engine owns both and frees the `SSL` (and
/// with it the BIO) before the transport.
enum TLSTransportBIO {
    private struct Method: @unchecked Sendable {
        let raw: OpaquePointer?
    }

    /// Built once per process; never freed (as with OpenSSL's own methods).
    private static let method: Method = {
        guard
            let method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "stepwise-transport")
        else {
            return Method(raw: nil)
        }
        _ = BIO_meth_set_write_ex(method) { bio, data, length, written in
            guard let bio, let transport = TLSTransportBIO.transport(of: bio) else { return 0 }
            cossl_bio_clear_retry_flags(bio)
            if length > 0, let data {
                transport.outbound.append(UnsafeRawBufferPointer(start: data, count: length))
            }
            written?.pointee = length
            return 1
        }
        _ = BIO_meth_set_read_ex(method) { bio, destination, capacity, readBytes in
            readBytes?.pointee = 0
            guard let bio, let transport = TLSTransportBIO.transport(of: bio) else { return 0 }
            cossl_bio_clear_retry_flags(bio)
            guard capacity > 0, let destination else { return 0 }
            if transport.inbound.isEmpty {
                // Without the retry flag a 0 return means end of stream to OpenSSL.
                if !transport.inboundEOF { cossl_bio_set_retry_read(bio) }
                return 0
            }
            readBytes?.pointee = transport.inbound.read(into: destination, maxCount: capacity)
            return 1
        }
        _ = BIO_meth_set_ctrl(method) { bio, command, _, _ in
            guard let bio, let transport = TLSTransportBIO.transport(of: bio) else { return 0 }
            switch command {
            case BIO_CTRL_FLUSH:
                return 1
            case BIO_CTRL_PENDING:
                return transport.inbound.count
            case BIO_CTRL_WPENDING:
                return transport.outbound.count
            case BIO_CTRL_EOF:
                return transport.inboundEOF && transport.inbound.isEmpty ? 1 : 0
            default:
                return 0
            }
        }
        _ = BIO_meth_set_create(method) { bio in
            BIO_set_init(bio, 1)
            return 1
        }
        _ = BIO_meth_set_destroy(method) { bio in
            BIO_set_data(bio, nil)
            BIO_set_init(bio, 0)
            return 1
        }
        return Method(raw: method)
    }()

    /// A new BIO over `transport` (unretained), or nil when OpenSSL could not allocate one.
    static func make(for transport: TLSTransport) -> OpaquePointer? {
        guard let method = method.raw, let bio = BIO_new(method) else { return nil }
        BIO_set_data(bio, Unmanaged.passUnretained(transport).toOpaque())
        return bio
    }

    private static func transport(of bio: OpaquePointer) -> TLSTransport? {
        guard let data = BIO_get_data(bio) else { return nil }
        return Unmanaged<TLSTransport>.fromOpaque(data).takeUnretainedValue()
    }
}
