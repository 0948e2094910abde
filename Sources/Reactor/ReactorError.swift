import Glibc

/// Errors of the reactor and of the objects that run on it.
public enum ReactorError: Error, Equatable, CustomStringConvertible {
    /// `step` or a blocking convenience was called from inside a reactor callback or task.
    case reentrantStep
    /// A deadline passed before the operation finished.
    case timedOut(String)
    /// The object was closed while the operation waited.
    case closed(String)

    public var description: String {
        switch self {
        case .reentrantStep:
            return "reactor: step, loop or run called from inside a reactor callback or task"
                + " (await the operation instead, or use a callback)"
        case .timedOut(let what): return "\(what): timed out"
        case .closed(let what): return "\(what): closed"
        }
    }
}

/// A failed system call: what was attempted and the `errno` the OS gave.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let operation: String
    public let errno: Int32

    public init(_ operation: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
