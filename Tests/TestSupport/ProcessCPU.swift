#if canImport(Glibc)
    import Glibc
#endif

/// The CPU time (user + system, every thread of this process) `body` took, in seconds: a test
/// that waits on a stalled peer checks with it that nothing spins meanwhile.
public func cpuSeconds(during body: () throws -> Void) rethrows -> Double {
    func now() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let user = Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        return user + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
    }
    let start = now()
    try body()
    return now() - start
}
