internal import COpenSSL

/// The lowest TLS protocol version a context accepts. Older versions (SSL 3, TLS 1.0, TLS 1.1) are never
/// offered.
public enum TLSVersion: Sendable, Hashable {
    case tls12
    case tls13

    var openSSLValue: Int32 {
        switch self {
        case .tls12: return TLS1_2_VERSION
        case .tls13: return TLS1_3_VERSION
        }
    }
}
