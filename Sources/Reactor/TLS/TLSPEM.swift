internal import COpenSSL

/// Owns one reference to an `X509` certificate.
final class TLSX509 {
    let raw: OpaquePointer

    init(owning raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        X509_free(raw)
    }
}

/// Owns one reference to an `EVP_PKEY`.
final class TLSPrivateKey {
    let raw: OpaquePointer

    init(owning raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        EVP_PKEY_free(raw)
    }
}

/// PEM decoding and encoding through memory BIOs.
enum TLSPEM {
    /// Every certificate in `pem`, in order (leaf first for a chain). Throws when there is none or when a
    /// block is malformed.
    static func certificates(in pem: String) throws -> [TLSX509] {
        try withReadBIO(pem, what: "certificate") { bio in
            var certificates: [TLSX509] = []
            while let raw = PEM_read_bio_X509(bio, nil, nil, nil) {
                certificates.append(TLSX509(owning: raw))
            }
            // Running out of input ends the loop with PEM_R_NO_START_LINE; anything else is a broken block.
            let queue = TLSErrorQueue.drain()
            let endOfInput =
                queue.codes.last.map {
                    ERR_GET_LIB($0) == ERR_LIB_PEM && ERR_GET_REASON($0) == PEM_R_NO_START_LINE
                } ?? true
            guard endOfInput, !certificates.isEmpty else {
                throw queue.error(.configuration, "cannot read a PEM certificate")
            }
            return certificates
        }
    }

    /// A passphrase callback that gives none: an encrypted key then fails to load at once,
    /// where OpenSSL's default would prompt on the terminal or read stdin.
    static let refusePassphrase:
        @convention(c) (
            UnsafeMutablePointer<CChar>?, Int32, Int32, UnsafeMutableRawPointer?
        ) -> Int32 = { _, _, _, _ in 0 }

    /// The first private key in `pem` (PKCS#8, traditional EC or RSA; unencrypted).
    static func privateKey(in pem: String) throws -> TLSPrivateKey {
        try withReadBIO(pem, what: "private key") { bio in
            guard let raw = PEM_read_bio_PrivateKey(bio, nil, TLSPEM.refusePassphrase, nil) else {
                throw TLSErrorQueue.error(.configuration, "cannot read a PEM private key")
            }
            return TLSPrivateKey(owning: raw)
        }
    }

    /// `certificate` (an `X509*`, borrowed) as a PEM block.
    static func encode(certificate: OpaquePointer) throws -> String {
        let bio = try TLSMemoryBIO()
        guard PEM_write_bio_X509(bio.raw, certificate) == 1 else {
            throw TLSErrorQueue.error(.configuration, "cannot encode the certificate as PEM")
        }
        return bio.contents
    }

    /// `key` as an unencrypted PKCS#8 PEM block.
    static func encode(privateKey key: TLSPrivateKey) throws -> String {
        let bio = try TLSMemoryBIO()
        guard PEM_write_bio_PrivateKey(bio.raw, key.raw, nil, nil, 0, nil, nil) == 1 else {
            throw TLSErrorQueue.error(.configuration, "cannot encode the private key as PEM")
        }
        return bio.contents
    }

    /// The subject of `certificate` (an `X509*`, borrowed) in RFC 2253 form, e.g. `CN=localhost,O=Example`.
    static func subject(of certificate: OpaquePointer) -> String? {
        guard let name = X509_get_subject_name(certificate), let bio = try? TLSMemoryBIO() else {
            return nil
        }
        guard X509_NAME_print_ex(bio.raw, name, 0, COSSL_XN_FLAG_RFC2253) >= 0 else {
            TLSErrorQueue.clear()
            return nil
        }
        return bio.contents
    }

    private static func withReadBIO<Result>(
        _ pem: String, what: String, _ body: (OpaquePointer) throws -> Result
    ) throws -> Result {
        var text = pem
        return try text.withUTF8 { bytes in
            guard !bytes.isEmpty, bytes.count <= Int(Int32.max) else {
                throw TLSError(
                    kind: .configuration, reason: "cannot read a PEM \(what): empty or oversized input")
            }
            TLSErrorQueue.clear()
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else {
                throw TLSErrorQueue.error(.configuration, "cannot allocate a memory BIO")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }
}

/// Owns a read-write memory BIO used to collect OpenSSL's text output.
final class TLSMemoryBIO {
    let raw: OpaquePointer

    init() throws {
        guard let raw = BIO_new(BIO_s_mem()) else {
            throw TLSErrorQueue.error(.configuration, "cannot allocate a memory BIO")
        }
        self.raw = raw
    }

    deinit {
        BIO_free(raw)
    }

    /// Everything written so far, decoded as UTF-8.
    var contents: String {
        var start: UnsafeMutablePointer<CChar>? = nil
        let count = cossl_bio_get_mem_data(raw, &start)
        guard count > 0, let start else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: count), as: UTF8.self)
    }
}
