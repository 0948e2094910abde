import Glibc
import HTTPCore

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
    var device: UInt64
    var inode: UInt64
    var size: UInt64
    /// The modification time, whole seconds since the epoch.
    var modificationSeconds: Int
    /// The modification time, nanoseconds since the epoch, wrapped to 64 bits: `Int64` counts
    /// nanoseconds only to 2262 (and from 1677), and a file system with 64-bit times stores any
    /// date `touch -d` is given. Only the entity tag uses it, which needs a value that changes
    /// with the time, not one that orders: two times 2^64 ns (584 years) apart give the same.
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

    /// Where `path` leads, following symbolic links: a handle on the file itself that grants no
    /// access to its contents (`open(2)` with `O_PATH`, so neither permissions nor a FIFO's
    /// missing writer get in the way). What the planner checks and sends is then this file, even
    /// if the name is changed (a symbolic link swapped in) after the check.
    static func locate(_ path: String) throws(FileSystemError) -> BodyFile {
        let descriptor = open(path, openPathOnly | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(errno: errno) }
        return BodyFile(adopting: descriptor)
    }

    /// `O_PATH`, which Glibc's Swift module leaves out (its value on x86-64 and AArch64, and
    /// every Linux architecture but Alpha, PA-RISC and SPARC).
    static let openPathOnly: Int32 = 0o10_000_000

    /// The canonical path of the file `handle` is open on, as the kernel tracks it (the
    /// `/proc/self/fd` link): the file's own name now, not the one it was opened by.
    static func canonicalPath(of handle: BodyFile) throws(FileSystemError) -> String {
        var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = buffer.withUnsafeMutableBytes { bytes in
            readlink("/proc/self/fd/\(handle.fd)", bytes.baseAddress!.assumingMemoryBound(to: CChar.self), bytes.count)
        }
        guard count >= 0 else { throw FileSystemError(errno: errno) }
        guard count < buffer.count else { throw FileSystemError(errno: ENAMETOOLONG) }
        return String(decoding: buffer[..<count], as: UTF8.self)
    }

    /// Opens the file `handle` is on for reading, through its `/proc/self/fd` link: the same
    /// file, whatever its name leads to now, with its permissions checked. Non-blocking, so
    /// that a FIFO does not hang the caller; a file the caller knows to be regular is made
    /// blocking again once open (a response sends it with `sendfile(2)`, which should wait for
    /// the disk, on its blocking-work thread, rather than find the pages not there yet).
    static func openForReading(_ handle: BodyFile, isRegularFile: Bool) throws(FileSystemError) -> BodyFile {
        let descriptor = open("/proc/self/fd/\(handle.fd)", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(errno: errno) }
        if isRegularFile { _ = fcntl(descriptor, F_SETFL, O_RDONLY) }
        return BodyFile(adopting: descriptor, isRegularFile: isRegularFile)
    }

    /// `fstat(2)` of the file `handle` is on.
    static func status(of handle: BodyFile) throws(FileSystemError) -> FileStatus {
        var info = stat()
        guard fstat(handle.fd, &info) == 0 else { throw FileSystemError(errno: errno) }
        return FileStatus(info)
    }

    /// The entries of the directory `handle` is on, except `.` and `..`, in the order
    /// `readdir(3)` gives them. A name that is not UTF-8 is left out (a plan carries paths as
    /// `String`, so such a file could not be served anyway). An entry is a directory when it is
    /// one or is a symbolic link to one.
    static func directoryEntries(of handle: BodyFile) throws(FileSystemError) -> [DirectoryEntry] {
        let descriptor = openat(handle.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw FileSystemError(errno: errno) }
        guard let directory = fdopendir(descriptor) else {
            let failure = errno
            close(descriptor)
            throw FileSystemError(errno: failure)
        }
        defer { closedir(directory) }  // closes `descriptor`
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
                var info = stat()
                isDirectory = fstatat(descriptor, name, &info, 0) == 0 && info.st_mode & S_IFMT == S_IFDIR
            } else {
                isDirectory = false
            }
            entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
        }
        return entries
    }
}

extension FileStatus {
    /// The part of `info` the planner uses.
    init(_ info: stat) {
        let type = info.st_mode & S_IFMT
        self.init(
            isDirectory: type == S_IFDIR,
            isRegularFile: type == S_IFREG,
            device: UInt64(info.st_dev),
            inode: UInt64(info.st_ino),
            size: UInt64(info.st_size),
            modificationSeconds: info.st_mtim.tv_sec,
            modificationNanoseconds: Int64(info.st_mtim.tv_sec) &* 1_000_000_000 &+ Int64(info.st_mtim.tv_nsec))
    }
}
