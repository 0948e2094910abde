import Glibc

/// A failed file system call, by its `errno`.
struct FileSystemError: Error, Equatable {
    let errno: Int32

    /// Whether the name does not exist (`ENOENT`).
    var isMissing: Bool { errno == ENOENT }

    /// The response status for the failure: 404 when the name does not exist (`ENOENT`; also
    /// `ENOTDIR`, a file used as a directory, and `ENAMETOOLONG`, a name no file can have), 403
    /// when permission is denied (`EACCES`), 500 otherwise.
    var status: Int {
        switch errno {
        case ENOENT, ENOTDIR, ENAMETOOLONG: return 404
        case EACCES: return 403
        default: return 500
        }
    }
}

/// What `stat` says about a file, the part the planner uses.
struct FileStatus: Equatable {
    var isDirectory: Bool
    var isRegularFile: Bool
    var inode: UInt64
    var size: UInt64
    /// The modification time, whole seconds since the epoch.
    var modificationSeconds: Int
    /// The modification time, nanoseconds since the epoch.
    var modificationNanoseconds: Int64
}

/// The few Glibc calls the planner makes, with `errno` turned into a thrown `FileSystemError`.
enum FileSystem {
    /// The canonical absolute path of `path`: every symbolic link, `.` and `..` resolved
    /// (`realpath(3)`).
    static func realPath(_ path: String) throws(FileSystemError) -> String {
        guard let resolved = realpath(path, nil) else { throw FileSystemError(errno: errno) }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// `stat(2)` of `path`, following symbolic links.
    static func status(_ path: String) throws(FileSystemError) -> FileStatus {
        var info = stat()
        guard stat(path, &info) == 0 else { throw FileSystemError(errno: errno) }
        let type = info.st_mode & S_IFMT
        return FileStatus(
            isDirectory: type == S_IFDIR,
            isRegularFile: type == S_IFREG,
            inode: UInt64(info.st_ino),
            size: UInt64(info.st_size),
            modificationSeconds: info.st_mtim.tv_sec,
            modificationNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    /// Throws unless `path` can be opened for reading (`open(2)`, closed at once). Non-blocking, so
    /// that a FIFO does not hang the caller.
    static func checkReadable(_ path: String) throws(FileSystemError) {
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(errno: errno) }
        close(descriptor)
    }

    /// The entries of the directory at `path` except `.` and `..`, in the order `readdir(3)` gives
    /// them. A name that is not UTF-8 is left out (a plan carries paths as `String`, so such a
    /// file could not be served anyway). An entry is a directory when it is one or is a symbolic
    /// link to one.
    static func directoryEntries(_ path: String) throws(FileSystemError) -> [DirectoryEntry] {
        guard let directory = opendir(path) else { throw FileSystemError(errno: errno) }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(validating: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let name, name != ".", name != ".." else { continue }
            let type = entry.pointee.d_type
            let isDirectory: Bool
            if type == UInt8(DT_DIR) {
                isDirectory = true
            } else if type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) {
                isDirectory = (try? status(path + "/" + name))?.isDirectory ?? false
            } else {
                isDirectory = false
            }
            entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
        }
        return entries
    }
}
