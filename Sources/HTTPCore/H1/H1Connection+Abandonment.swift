// A client stream dropped by everyone who held it, without `shutdown()`: abandoned.

import Reactor

extension H1Connection {
    /// A client stream of `connection` went away (its last reference was dropped): on the
    /// reactor's thread the connection acts now; from another thread, in a coming step
    /// (`Reactor.execute`), holding the connection until then.
    static func clientStream(of connection: H1Connection, wentAwayOn reactor: Reactor) {
        if reactor.isOnReactorThread {
            connection.clientStreamWentAway()
        } else {
            reactor.execute { connection.clientStreamWentAway() }
        }
    }

    /// Does what the gone stream's `shutdown()` would have done (`shutdownClientStream`) when
    /// nobody can go on with its exchange: a request left half-written, or a response left
    /// unread (received only in part, or not at all), leaves the connection unusable, so it
    /// closes: the socket's descriptor is released, and a pool hears of it (`onClose`) and frees
    /// the place. A stream whose response had been received to its end is out of the pipeline
    /// already: its going changes nothing, and the connection stays idle (in its pool, if any).
    ///
    /// A stream that a task or a callback still reads is held by that reader, so it never goes
    /// from under it.
    ///
    /// A protocol switch (101, a 2xx to CONNECT) is left alone, unlike in `shutdown()`: its
    /// exchange goes on through the connection (`takeSocket()`), which a caller may hold without
    /// the stream, and Swift may release a stream right after its last use, before that call.
    /// A switched connection nobody holds goes with its last stream, its socket closed.
    func clientStreamWentAway() {
        guard phase != .closed else { return }
        let requestCut = requestBeingWritten?.isGone ?? false
        let responseUnread = pipeline.contains { $0.isGone }
        if requestCut || responseUnread { close() }
    }
}
