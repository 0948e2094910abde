import CLibuv
import Glibc

// MARK: - Small libuv helpers for the scenario

/// A libuv timer that calls a Swift closure. libuv's callbacks cannot capture, so the object
/// travels in the handle's `data`: keep it alive until `close()`.
final class LibuvTimer {
    private let handle = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    private let body: (LibuvTimer) -> Void

    init(
        loop: UnsafeMutablePointer<uv_loop_t>, after milliseconds: UInt64, repeating: UInt64 = 0,
        _ body: @escaping (LibuvTimer) -> Void
    ) {
        self.body = body
        uv_timer_init(loop, handle)
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        uv_timer_start(
            handle,
            { handle in
                let timer = Unmanaged<LibuvTimer>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
                timer.body(timer)
            }, milliseconds, repeating)
    }

    func stop() { uv_timer_stop(handle) }
    func close() { closeHandle(handle) }
}

/// A child process started with `uv_spawn` (stdin and stdout to /dev/null, stderr inherited);
/// `onExit` hears its exit status (-1: killed by a signal).
final class LibuvProcess {
    private let handle = UnsafeMutablePointer<uv_process_t>.allocate(capacity: 1)
    private let onExit: (Int64) -> Void

    /// Throws the libuv error (`UV_ENOENT` when the program is not found).
    init(loop: UnsafeMutablePointer<uv_loop_t>, arguments: [String], onExit: @escaping (Int64) -> Void) throws {
        self.onExit = onExit
        handle.pointee.data = Unmanaged.passUnretained(self).toOpaque()
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var stdio = [uv_stdio_container_t](repeating: uv_stdio_container_t(), count: 3)
        stdio[0].flags = UV_IGNORE
        stdio[1].flags = UV_IGNORE
        stdio[2].flags = UV_INHERIT_FD
        stdio[2].data.fd = STDERR_FILENO
        var options = uv_process_options_t()
        options.exit_cb = { handle, status, signal in
            let process = Unmanaged<LibuvProcess>.fromOpaque(handle!.pointee.data).takeUnretainedValue()
            closeHandle(handle!)
            process.onExit(signal == 0 ? status : -1)
        }
        var argvCopy = argv
        let rc = argvCopy.withUnsafeMutableBufferPointer { argvBuffer in
            stdio.withUnsafeMutableBufferPointer { stdioBuffer in
                options.file = UnsafePointer(argvBuffer[0])
                options.args = argvBuffer.baseAddress
                options.stdio = stdioBuffer.baseAddress
                options.stdio_count = 3
                return uv_spawn(loop, handle, &options)
            }
        }
        if rc != 0 {
            closeHandle(handle)  // uv_spawn registered the handle even though it failed
            throw LibuvError(call: "uv_spawn(\(arguments[0]))", code: rc)
        }
    }
}

struct LibuvError: Error, CustomStringConvertible {
    var call: String
    var code: Int32
    var description: String { "\(call): \(String(cString: uv_strerror(code)))" }
}
