/// The serializer's byte-level machinery: validation over a String's UTF-8 storage in place (no
/// per-octet `String.UTF8View` iteration), and a cursor that copies validated pieces into memory
/// that was sized exactly beforehand, so a head costs one size computation, one reservation and
/// a few `memcpy`s.
extension HTTP1Syntax {
    /// Calls `body` with the UTF-8 bytes of `string`, in place for native and small strings.
    @inline(__always)
    static func withUTF8<R>(_ string: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        if let result = string.utf8.withContiguousStorageIfAvailable({ body(UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return withContiguousCopy(string, body)
    }

    /// `withUTF8`'s path for a string without contiguous UTF-8 (a bridged or foreign one): out of
    /// line, so that callers need no owned copy (a retain and release per string) on the fast path.
    @inline(never)
    static func withContiguousCopy<R>(_ string: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var copy = string
        return copy.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }

    /// Whether every octet is `tchar` (true for no octets; word at a time for lower-case names).
    @inline(__always)
    static func allTokenChars(_ bytes: UnsafeRawBufferPointer) -> Bool {
        skipTokenChars(bytes, from: 0, to: bytes.count) == bytes.count
    }

    /// Whether `bytes` is a field name as this library writes it: a token in lower case. Names
    /// are case-insensitive on the wire (RFC 9110 §5.1), but the framing checks compare them in
    /// lower case (`Headers`' convention, HTTP/2's rule, RFC 9113 §8.2.1): a `Content-Length`
    /// would go out unnoticed beside the library's own framing.
    @inline(__always)
    static func isLowercaseToken(_ bytes: UnsafeRawBufferPointer) -> Bool {
        !bytes.isEmpty && allTokenChars(bytes) && !bytes.contains { $0 &- UInt8(ascii: "A") < 26 }
    }

    /// Whether every octet is `isFieldValueChar` (word at a time).
    @inline(__always)
    static func allFieldValueChars(_ bytes: UnsafeRawBufferPointer) -> Bool {
        skipFieldValueChars(bytes, from: 0, to: bytes.count) == bytes.count
    }

    /// Whether every octet is `isTargetChar` (word at a time).
    @inline(__always)
    static func allTargetChars(_ bytes: UnsafeRawBufferPointer) -> Bool {
        skipTargetChars(bytes, from: 0, to: bytes.count) == bytes.count
    }
}

/// How a field's name looks to the serializer. Values are checked as they are copied
/// (`HTTP1HeadWriter.writeRegularFieldsCheckingValues`): they are the long part of a field, and
/// reading them once, in the copy, costs less than a pass of its own.
enum HTTP1FieldCheck {
    /// A token name: `size` octets on the wire (`name: value CRLF`), the value unchecked.
    case regular(size: Int)
    /// The name starts with `:`.
    case pseudo
    /// The name is empty, not a token, or not in lower case.
    case invalidName

    @inline(__always)
    init(name: String, value: String) {
        let nameCount = HTTP1Syntax.withUTF8(name) { name -> Int in
            guard let first = name.first else { return -1 }
            if first == HTTP1Syntax.colon { return -2 }
            return HTTP1Syntax.isLowercaseToken(name) ? name.count : -1
        }
        guard nameCount >= 0 else {
            self = nameCount == -2 ? .pseudo : .invalidName
            return
        }
        self = .regular(size: nameCount + 2 + value.utf8.count + 2)
    }

    /// Adds the wire size of `fields[start...]` to `size` up to the first field that is not
    /// `.regular`, and returns that field's index and check (nil when all are regular). The
    /// fields are read in place, without copying (retaining) their strings.
    static func scan(_ fields: [Headers.Field], from start: Int, size: inout Int) -> (Int, HTTP1FieldCheck)? {
        fields.withUnsafeBufferPointer { buffer in
            var total = size
            defer { size = total }
            for index in start..<buffer.count {
                let field = buffer.baseAddress! + index
                let check = HTTP1FieldCheck(name: field.pointee.name, value: field.pointee.value)
                guard case .regular(let count) = check else { return (index, check) }
                total &+= count
            }
            return nil
        }
    }
}

/// Writes into memory the caller sized: every `write` must stay within it. No checks beyond a
/// debug assertion at the end; the serializer validates and sizes everything first.
struct HTTP1HeadWriter {
    private var cursor: UnsafeMutableRawPointer
    let start: UnsafeMutableRawPointer

    init(_ start: UnsafeMutableRawPointer) {
        self.start = start
        self.cursor = start
    }

    var written: Int { cursor - start }

    @inline(__always)
    mutating func write(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        cursor.copyMemory(from: base, byteCount: bytes.count)
        cursor += bytes.count
    }

    @inline(__always)
    mutating func write(_ string: String) {
        let count = HTTP1Syntax.withUTF8(string) { bytes in
            if let base = bytes.baseAddress { cursor.copyMemory(from: base, byteCount: bytes.count) }
            return bytes.count
        }
        cursor += count
    }

    @inline(__always)
    mutating func write(_ byte: UInt8) {
        cursor.storeBytes(of: byte, as: UInt8.self)
        cursor += 1
    }

    @inline(__always)
    mutating func writeCRLF() {
        cursor.storeBytes(of: 0x0A0D, toByteOffset: 0, as: UInt16.self)  // CR LF, little-endian
        cursor += 2
    }

    /// `value` in decimal: `digits` octets, its number of digits (`HTTP1AddedFields.digits`).
    @inline(__always)
    mutating func writeDecimal(_ value: UInt64, digits: Int) {
        var rest = value
        for offset in stride(from: digits - 1, through: 0, by: -1) {
            cursor.storeBytes(of: UInt8(truncatingIfNeeded: rest % 10) &+ 0x30, toByteOffset: offset, as: UInt8.self)
            rest /= 10
        }
        cursor += digits
    }

    /// `name: value CRLF`.
    @inline(__always)
    mutating func writeField(_ name: String, _ value: String) {
        write(name)
        cursor.storeBytes(of: 0x203A, toByteOffset: 0, as: UInt16.self)  // ": ", little-endian
        cursor += 2
        write(value)
        writeCRLF()
    }

    /// The regular fields (names not starting with `:`) of validated `fields`, in order.
    @inline(__always)
    mutating func writeRegularFields(_ fields: [Headers.Field]) {
        fields.withUnsafeBufferPointer { buffer in
            for index in buffer.indices
            where !HTTP1Syntax.withUTF8(buffer[index].name, { $0.first == HTTP1Syntax.colon }) {
                writeField(buffer[index].name, buffer[index].value)
            }
        }
    }

    /// The regular fields of `fields`, whose names were validated (`HTTP1FieldCheck`), in order,
    /// checking each value in the copy; stops at the first value with CR, LF, NUL or another CTL
    /// but HTAB and returns that field's index (nil when all are valid).
    @inline(__always)
    mutating func writeRegularFieldsCheckingValues(_ fields: [Headers.Field]) -> Int? {
        fields.withUnsafeBufferPointer { buffer in
            for index in buffer.indices {
                let field = buffer.baseAddress! + index
                if HTTP1Syntax.withUTF8(field.pointee.name, { $0.first == HTTP1Syntax.colon }) { continue }
                write(field.pointee.name)
                cursor.storeBytes(of: 0x203A, toByteOffset: 0, as: UInt16.self)  // ": ", little-endian
                cursor += 2
                let value = cursor
                write(field.pointee.value)
                guard HTTP1Syntax.allFieldValueChars(UnsafeRawBufferPointer(start: value, count: cursor - value)) else {
                    return index
                }
                writeCRLF()
            }
            return nil
        }
    }

    /// `HTTP/1.x`.
    @inline(__always)
    mutating func writeVersion(_ version: HTTP1Version) {
        // "HTTP/1.1" as a little-endian word; HTTP/1.0 differs in its last octet.
        let word: UInt64 = version == .http10 ? 0x302E_312F_5054_5448 : 0x312E_312F_5054_5448
        cursor.storeBytes(of: word, toByteOffset: 0, as: UInt64.self)
        cursor += 8
    }

    /// Appends `size` octets produced by `body` to `buffer` in one piece: they are assembled on
    /// the stack and copied once. A buffer that must grow gets `slack` octets of room beyond them,
    /// for what usually follows (the body of a small response), so appending that does not
    /// reallocate. (`[UInt8](unsafeUninitializedCapacity:)` would save the copy but looks up the
    /// array's generic metadata on every call, which costs more.)
    @inline(__always)
    static func append(
        _ size: Int, slack: Int, to buffer: inout [UInt8], _ body: (inout HTTP1HeadWriter) -> Void
    ) {
        appendUnlessRefused(size, slack: slack, to: &buffer) { writer in
            body(&writer)
            return true
        }
    }

    /// `append` whose `body` may refuse what it wrote (return false): then nothing is appended.
    @inline(__always)
    static func appendUnlessRefused(
        _ size: Int, slack: Int, to buffer: inout [UInt8], _ body: (inout HTTP1HeadWriter) -> Bool
    ) {
        withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { memory in
            var writer = HTTP1HeadWriter(memory.baseAddress!)
            guard body(&writer) else { return }
            assert(writer.written == size, "HTTP1HeadWriter: size mismatch")
            let needed = buffer.count + size
            if needed > buffer.capacity { buffer.reserveCapacity(Swift.max(needed + slack, 2 * buffer.capacity)) }
            buffer.append(contentsOf: UnsafeRawBufferPointer(start: memory.baseAddress, count: size))
        }
    }
}
