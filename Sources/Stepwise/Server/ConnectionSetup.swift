import HTTPCore
import Reactor

/// The first moments of an accepted connection, before HTTP: wait for the first octets, tell a
/// TLS handshake from plain HTTP (when the server allows both), run the handshake and check the
/// negotiated ALPN protocol. One deadline (`connectionSetupTimeout`) covers all of it.
final class ConnectionSetup: StreamSocketReader {
    enum Outcome {
        /// Speak HTTP/1 on this socket (TLS, if any, is established).
        case http1(StreamSocket)
        /// Give up; the reason is for the log.
        case failed(StreamSocket, String)
    }

    private let socket: StreamSocket
    private let tls: Bool?
    private let context: TLSContext?
    private var timer: ReactorTimer?
    private var completion: ((Outcome) -> Void)?

    init(
        socket: StreamSocket, tls: Bool?, context: TLSContext?, timeout: Double?,
        completion: @escaping (Outcome) -> Void
    ) {
        self.socket = socket
        self.tls = tls
        self.context = context
        self.completion = completion
        if let timeout {
            timer = socket.reactor.schedule(after: timeout) { [weak self] _ in
                self?.finish(.failed(socket, "no request or TLS handshake within \(timeout) s"))
            }
        }
    }

    func start() {
        // The socket's reader (held unowned, cleared in `finish`), not an `onReadable` closure: a
        // closure would give every connection a box it keeps after the setup.
        socket.reader = self
        socket.readInterest = true
        if !socket.input.isEmpty { firstOctets() }
    }

    /// Cancels the setup (server closing): the socket is closed.
    func cancel() {
        finish(.failed(socket, "server closing"))
    }

    /// The server went away: the socket is closed, and nobody is told.
    func abandon() {
        completion = nil
        timer?.cancel()
        timer = nil
        if socket.reader === self { socket.reader = nil }
        socket.close()
    }

    /// The socket has its first octets, EOF or an error (`StreamSocketReader`).
    func socketReadable(_ socket: StreamSocket) { firstOctets() }

    private func firstOctets() {
        guard completion != nil else { return }
        guard let first = socket.input.withUnsafeReadableBytes({ $0.first }) else {
            if socket.isEOF || socket.failure != nil { finish(.failed(socket, "closed before sending anything")) }
            return
        }
        socket.readInterest = false
        socket.reader = nil
        // RFC 8446 §5.1: a TLS record starts with its content type; a handshake is 22 (0x16).
        let isTLS = first == 0x16
        if isTLS && tls != false, let context {
            startTLS(context)
        } else if tls == true {
            finish(.failed(socket, "plain data on a TLS-only port"))
        } else {
            finish(.http1(socket))
        }
    }

    private func startTLS(_ context: TLSContext) {
        do {
            try socket.startTLS(context: context, role: .server) { [weak self] result in
                guard let self else { return }
                switch result {
                case .failure(let error):
                    self.finish(.failed(self.socket, "\(error)"))
                case .success(let info):
                    switch info.alpn {
                    case nil, "http/1.1", "http/1.0": self.finish(.http1(self.socket))
                    case let other?: self.finish(.failed(self.socket, "unsupported ALPN protocol \(other)"))
                    }
                }
            }
        } catch {
            finish(.failed(socket, "TLS: \(error)"))
        }
    }

    private func finish(_ outcome: Outcome) {
        guard let completion else { return }
        self.completion = nil
        timer?.cancel()
        timer = nil
        if socket.reader === self { socket.reader = nil }
        completion(outcome)
    }
}
