#if canImport(Glibc)
    import Glibc
#endif

/// Takes every descriptor there is (a soft `RLIMIT_NOFILE` just above the lowest free one, the
/// few below it filled) until `release()`, which gives them and the limit back.
public final class DescriptorFillers {
    private static let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    private var saved = rlimit()
    private var fillers: [Int32] = []
    private var released = false

    public init() {
        getrlimit(Self.resource, &saved)
        let lowestFree = dup(0)
        close(lowestFree)
        var lowered = saved
        lowered.rlim_cur = rlim_t(lowestFree + 4)
        setrlimit(Self.resource, &lowered)
        while case let fd = dup(0), fd >= 0 { fillers.append(fd) }
    }

    public func release() {
        guard !released else { return }
        released = true
        fillers.forEach { close($0) }
        setrlimit(Self.resource, &saved)
    }

    deinit { release() }
}
