import Glibc
import HTTPCore

/// Decides how `stepwise serve` answers a request for a file below a root directory, without doing
/// any network I/O: it looks at the file system (`realpath`, `open`, `fstat`, `readdir`) and returns
/// a `StaticFilePlan` that the server carries out.
///
/// The rules, in the order they apply:
/// 1. Methods other than GET, HEAD and OPTIONS (`AllowedMethods.getAndHead`), whatever the
///    path: 405 with `allow: GET, HEAD, OPTIONS` for one the demo recognizes (POST, PUT, DELETE,
///    PATCH, CONNECT, TRACE; RFC 9110 §15.5.6), 501 for any other (RFC 9110 §9.1). `OPTIONS *`
///    (RFC 9112 §3.2.4): 204 with the same `allow`.
/// 2. A path that is not a safe file name: 400 (see `RequestTarget.parse`: no NUL, no `..`
///    segment even percent-encoded, UTF-8, starting with `/`).
/// 3. With `dotfiles` `.deny` (the default), a path with a segment starting with `.` once
///    decoded and normalised (`/.git/config`, `/%2egit/config`, `/x/.hidden/y`, `/.env`): 404,
///    before the file system is looked at, so the answer is the same whether the file exists or
///    not. A first segment `.well-known` is allowed (RFC 8615's `/.well-known/` URIs).
///    Then OPTIONS: 204 with `allow: GET, HEAD, OPTIONS`, the methods of every static path,
///    without looking at the file system.
/// 4. The path is opened (`O_PATH`, following symbolic links) and the kernel's canonical path of
///    the file opened is checked: a file outside the root (a symbolic link leading out) is
///    answered 404, as if it did not exist; so is one whose canonical path below the root has a
///    segment starting with `.` under rule 3 (a symbolic link leading to a dotfile). The plan
///    sends from that descriptor, so a name changed after the check changes nothing. File system
///    errors: 404 for a missing name, 403 for permission denied, 500 for the rest.
/// 5. A directory requested without a literal trailing slash (`/sub`, but also `/sub%2F` or
///    `/sub/.`, whose last character is not `/` for the browser resolving relative links): 301 to
///    the same path with `/` appended, query kept, so that relative links in its page resolve
///    inside it.
/// 6. A directory with an `index.html` (a regular file inside the root, not a dotfile under rule
///    4): that file; without one, an HTML listing (`DirectoryIndex`; with `.deny`, entries whose
///    name starts with `.` are left out), after its preconditions (it has no validators: see
///    `ConditionalRequest.evaluate`). A file requested with a trailing slash: 404.
/// 7. A regular file: its `Last-Modified` (never later than now, see `lastModified`), then
///    preconditions (`ConditionalRequest`: 304, 412), then `Range`
///    (`ByteRangeRequest`: 206, 416, or 200 with the whole file; an empty file asked for a
///    suffix such as `bytes=-1` gets 200, as that range is satisfiable but selects nothing).
///    Other file types: 404.
///
/// HEAD gets the plan GET would get, except that `Range` applies to GET only (RFC 9110 §14.2).
public struct StaticFilePlanner: Sendable {
    /// The directory served, as given.
    public let root: String
    /// Whether files and directories whose name starts with `.` are served and listed.
    public let dotfiles: Dotfiles

    /// Whether a path below the root may have a segment that starts with `.`.
    public enum Dotfiles: Sendable {
        /// Such a path is answered 404 (except a first segment `.well-known`), and a listing
        /// leaves such names out: a root that is a checkout does not give away `.git/config` or
        /// `.env`.
        case deny
        /// Such a path is served like any other, and listed.
        case allow
    }

    /// A planner serving the files below `root`. The root is resolved (`realpath`) on each request,
    /// so it may be created or replaced later; while it cannot be resolved every request gets 500.
    /// The root's own path may have dot segments (`~/.local/www`): `dotfiles` applies below it.
    public init(root: String, dotfiles: Dotfiles = .deny) {
        self.root = root
        self.dotfiles = dotfiles
    }

    /// The plan for a request with method `method`, raw `:path` `path` (query and all, still
    /// percent-encoded) and request header fields `headers`.
    public func plan(method: String, path: String, headers: Headers) -> StaticFilePlan {
        let methods = AllowedMethods.getAndHead
        let isOptions = method == "OPTIONS"
        if !isOptions, let refusal = methods.answer(to: method) { return refusal }
        // RFC 9112 §3.2.4: the asterisk-form "is only used for a server-wide OPTIONS request";
        // with GET or HEAD it is refused below, as not a path.
        if isOptions && path == "*" { return methods.options }
        guard let target = RequestTarget.parse(path) else { return .text(400) }
        if dotfiles == .deny && Self.hasDotSegment(target.segments) { return .text(404) }
        if isOptions { return methods.options }
        do throws(FileSystemError) {
            return try planTarget(target, method: method, headers: headers)
        } catch {
            return .text(error.status)
        }
    }

    /// The plan for a request whose path passed `RequestTarget.parse`.
    private func planTarget(
        _ target: RequestTarget, method: String, headers: Headers
    ) throws(FileSystemError) -> StaticFilePlan {
        let rootPath: String
        do throws(FileSystemError) {
            rootPath = try FileSystem.realPath(root)
        } catch {
            return .text(500)  // a root that is missing or unreadable is the server's fault
        }
        let requested = target.segments.isEmpty ? rootPath : rootPath + "/" + target.relativePath
        guard let found = try Located(requested, root: rootPath, dotfiles: dotfiles) else { return .text(404) }
        if found.status.isDirectory {
            guard target.endsInLiteralSlash else {
                return .text(301, [("location", target.locationWithTrailingSlash)])
            }
            return try planDirectory(found, rootPath: rootPath, method: method, target: target, headers: headers)
        }
        guard found.status.isRegularFile, !target.hasTrailingSlash else { return .text(404) }
        let name = target.segments.last ?? ""
        return try planFile(found, name: name, method: method, headers: headers)
    }

    /// The plan for a directory requested with its trailing slash: its `index.html` when it has
    /// one (a regular file that resolves inside the root), else its listing.
    private func planDirectory(
        _ directory: Located, rootPath: String, method: String, target: RequestTarget, headers: Headers
    ) throws(FileSystemError) -> StaticFilePlan {
        let indexName = DirectoryIndex.indexFileName
        do throws(FileSystemError) {
            if let index = try Located(directory.path + "/" + indexName, root: rootPath, dotfiles: dotfiles),
                index.status.isRegularFile
            {
                return try planFile(index, name: indexName, method: method, headers: headers)
            }
        } catch  where error.isMissing {
            // No index: list the directory.
        }
        // The listing has no validators, but its preconditions still hold or fail (RFC 9110
        // §13.1.1: an origin server "MUST evaluate the condition [...] prior to performing the
        // method"): `If-Match` with entity tags fails, `If-None-Match: *` matches.
        switch ConditionalRequest.evaluate(method: method, headers: headers, validators: nil) {
        case .notModified: return .notModified(nil)
        case .preconditionFailed: return .text(412)
        case .proceed: break
        }
        var entries = try FileSystem.directoryEntries(of: directory.handle)
        if dotfiles == .deny { entries.removeAll { $0.name.utf8.first == UInt8(ascii: ".") } }
        let page = DirectoryIndex.html(urlPath: target.decodedPath, entries: entries)
        return .withBody(200, [], contentType: ContentType.forExtension("html"), body: Array(page.utf8))
    }

    /// The plan for the regular file `found`, requested as `name`, whose extension picks the
    /// content type.
    private func planFile(
        _ found: Located, name: String, method: String, headers: Headers
    ) throws(FileSystemError) -> StaticFilePlan {
        let status = found.status
        let file = OpenedFile(
            path: found.path, handle: try FileSystem.openForReading(found.handle, isRegularFile: status.isRegularFile),
            status: status)
        let messageDate = Int(time(nil))
        let settled = status.modificationSeconds < messageDate
        let validators = Validators(
            entityTag: .forFile(
                inode: status.inode, size: status.size, modificationNanoseconds: status.modificationNanoseconds,
                changedThisSecond: !settled),
            lastModified: Self.lastModified(status.modificationSeconds, messageDate: messageDate),
            lastModifiedIsStrong: settled)
        switch ConditionalRequest.evaluate(method: method, headers: headers, validators: validators) {
        case .notModified: return .notModified(validators.entityTag)
        case .preconditionFailed: return .text(412)
        case .proceed: break
        }
        let selection = ByteRangeRequest.select(
            method: method, headers: headers, completeLength: status.size, validators: validators)
        let range: ByteRange?
        switch selection {
        case .unsatisfiable: return .text(416, [("content-range", "bytes */\(status.size)")])
        case .whole: range = nil
        case .partial(let partial): range = partial
        }
        var fields = StaticFilePlan.statusHeaders(range == nil ? 200 : 206)
        fields.append("content-type", ContentType.forPath(name))
        fields.append("content-length", String(range?.count ?? status.size))
        fields.append("last-modified", HTTPUtil.imfFixdate(validators.lastModified))
        fields.append("etag", validators.entityTag.fieldValue)
        fields.append("accept-ranges", "bytes")
        if let range { fields.append("content-range", range.contentRange(completeLength: status.size)) }
        return .file(
            file, status: range == nil ? 200 : 206, headers: fields, offset: range?.first ?? 0,
            length: range?.count ?? status.size)
    }

    /// The `Last-Modified` of a file modified at `modificationSeconds`, in a response made at
    /// `messageDate` (seconds since the epoch). RFC 9110 §8.8.2.1: "An origin server with a clock
    /// MUST NOT generate a Last-Modified date that is later than the server's time of message
    /// origination (Date). If the last modification time is derived from implementation-specific
    /// metadata that evaluates to some time in the future, according to the origin server's clock,
    /// then the origin server MUST replace that value with the message origination date." The
    /// server writes its `Date` after planning, from the same clock, so it is never earlier. The
    /// value replaced is the validator too: `If-Modified-Since`, `If-Unmodified-Since` and
    /// `If-Range` are compared with the date that was sent, not with the file's.
    static func lastModified(_ modificationSeconds: Int, messageDate: Int) -> Int {
        min(modificationSeconds, messageDate)
    }

    /// Whether the canonical path `path` is `root` or below it (`root` canonical too).
    static func isInside(_ path: String, root: String) -> Bool {
        if root == "/" { return true }
        return path == root || path.hasPrefix(root + "/")
    }

    /// Whether a segment of the path below the root starts with `.`, other than a first
    /// `.well-known` (RFC 8615: "/.well-known/" is the path prefix of well-known URIs).
    static func hasDotSegment(_ segments: some Sequence<some StringProtocol>) -> Bool {
        for (position, segment) in segments.enumerated() where segment.utf8.first == UInt8(ascii: ".") {
            if position == 0 && segment == ".well-known" { continue }
            return true
        }
        return false
    }

    /// Whether the canonical path `path`, inside the canonical `root`, has a segment below the
    /// root that `hasDotSegment` refuses.
    static func hasDotSegment(_ path: String, below root: String) -> Bool {
        let below = path.utf8.dropFirst(root == "/" ? 1 : root.utf8.count + 1)
        return hasDotSegment(below.split(separator: UInt8(ascii: "/")).map { Substring($0) })
    }
}

/// A file or directory found for a request: a handle on it (`O_PATH`), its canonical path as
/// the kernel reports it for that handle, and its status, all three of the same file.
private struct Located {
    let handle: BodyFile
    let path: String
    let status: FileStatus

    /// What `path` leads to, or nil when that is outside `root` (canonical), or, with `dotfiles`
    /// `.deny`, has a segment below it that starts with `.` (a symbolic link leading to a
    /// dotfile). The check is made on the file opened, not on the name: a name changed between a
    /// check and an open could lead anywhere.
    init?(_ path: String, root: String, dotfiles: StaticFilePlanner.Dotfiles) throws(FileSystemError) {
        handle = try FileSystem.locate(path)
        self.path = try FileSystem.canonicalPath(of: handle)
        guard StaticFilePlanner.isInside(self.path, root: root) else { return nil }
        if dotfiles == .deny && StaticFilePlanner.hasDotSegment(self.path, below: root) { return nil }
        status = try FileSystem.status(of: handle)
    }
}
