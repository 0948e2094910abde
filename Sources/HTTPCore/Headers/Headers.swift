/// An ordered multimap of header fields, as HTTP/1 and HTTP/2 carry them.
///
/// Field names are lower case. Request and status lines travel as the HTTP/2 pseudo-headers
/// (`:method`, `:scheme`, `:authority`, `:path`, `:status`) in HTTP/1 too, so a handler written for
/// one version runs unchanged on the other. Each field carries a never-index flag, which HPACK
/// honours; `authorization`, `proxy-authorization`, `cookie` and `set-cookie` default to it.
public struct Headers: Sendable, Equatable {
    /// One header field.
    public struct Field: Sendable, Equatable, Hashable {
        public var name: String
        public var value: String
        public var neverIndex: Bool

        public init(name: String, value: String, neverIndex: Bool) {
            self.name = name
            self.value = value
            self.neverIndex = neverIndex
        }
    }

    /// The fields, in the order they were appended.
    public internal(set) var fields: [Field]

    public init() {
        fields = []
        fields.reserveCapacity(8)
    }

    /// The number of fields.
    public var count: Int { fields.count }

    /// Whether `name` defaults to never-index (credentials and cookies must not enter HPACK tables).
    @inlinable
    public static func defaultNeverIndex(_ name: String) -> Bool {
        switch name {
        case "authorization", "proxy-authorization", "cookie", "set-cookie": return true
        default: return false
        }
    }

    /// Appends a field. `name` must already be lower case; it is not validated here (the codecs
    /// validate what they serialize). `neverIndex` defaults to `defaultNeverIndex(name)`.
    public mutating func append(_ name: String, _ value: String, neverIndex: Bool? = nil) {
        fields.append(Field(name: name, value: value, neverIndex: neverIndex ?? Headers.defaultNeverIndex(name)))
    }

    /// The first value of `name`, or nil.
    public func first(_ name: String) -> String? {
        for field in fields where field.name == name { return field.value }
        return nil
    }
}
