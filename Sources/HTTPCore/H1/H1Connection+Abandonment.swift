// A client stream dropped by everyone who held it, without `shutdown()`: abandoned.

import Reactor

extension H1Connection {
    /// A client stream of `connection` went away (its last reference was dropped), one whose
    /// response switched protocols or not: on the reactor's thread the connection acts now; from
    /// another thread, in a coming step (`Reactor.execute`), holding the connection until then.
    static func clientStream(of connection: H1Connection, switchedProtocols: Bool, wentAwayOn reactor: Reactor) {
        if reactor.isOnReactorThread {
            connection.clientStreamWentAway(switchedProtocols: switchedProtocols)
        } else {
            reactor.execute { connection.clientStreamWentAway(switchedProtocols: switchedProtocols) }
        }
    }

    /// Does what the gone stream's `shutdown()` would have done (`shutdownClientStream`): a
    /// request left half-written, a response left unread (received only in part, or not at all),
    /// or a protocol switch (`switchedProtocols`) nobody took the socket of (`takeSocket()`
    /// closes the connection), leave the connection unusable, so it closes: the socket's descriptor is released, and a pool hears of it (`onClose`) and frees
    /// the place. A stream whose response had been received to its end is out of the pipeline
    /// already: its going changes nothing, and the connection stays idle (in its pool, if any).
    ///
    /// A stream that a task or a callback still reads is held by that reader, so it never goes
    /// from under it.
    func clientStreamWentAway(switchedProtocols: Bool) {
        guard phase != .closed else { return }
        let requestCut = requestBeingWritten?.isGone ?? false
        let responseUnread = pipeline.contains { $0.isGone }
        if switchedProtocols || requestCut || responseUnread { close() }
    }
}
