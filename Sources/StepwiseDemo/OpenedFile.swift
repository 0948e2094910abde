import HTTPCore

/// A file the planner opened for a response, and its canonical path as the kernel reports it
/// for the open descriptor, the path the root check was made on.
///
/// The server sends from this descriptor and never opens the name again: if the name is changed
/// after the check (a directory on the way replaced by a symbolic link leading out of the root),
/// the bytes sent are still those of the file checked. nginx's `disable_symlinks` addresses the
/// same race.
public struct OpenedFile: Equatable, Sendable {
    /// The canonical path of the file, inside the root when it was opened.
    public let path: String
    /// The open descriptor, read-only; closed when the last copy of the plan is released.
    public let handle: BodyFile
    /// The file's identity (`st_dev`, `st_ino`).
    let device: UInt64
    let inode: UInt64

    init(path: String, handle: BodyFile, status: FileStatus) {
        self.path = path
        self.handle = handle
        device = status.device
        inode = status.inode
    }

    /// The same file at the same path (opened once or twice).
    public static func == (lhs: OpenedFile, rhs: OpenedFile) -> Bool {
        lhs.path == rhs.path && lhs.device == rhs.device && lhs.inode == rhs.inode
    }
}
