/// Whether a reactor still exists, for the watchers and timers that refer to it. They hold the
/// reactor `unowned(unsafe)` and this token strongly; the reactor's deinit marks it dead first
/// thing, and detaches what is registered with libev, so nothing touches a dead reactor.
///
/// Not a `weak` reference: that gives the reactor a side table, and every retain and release of
/// it then takes the runtime's slow path (some 125 instructions a pair instead of two atomics).
final class ReactorLifeline {
    @exclusivity(unchecked) var isAlive = true
}
