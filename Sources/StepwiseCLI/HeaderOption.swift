import ArgumentParser
import Stepwise

/// One `stepwise get -H` argument, read as curl reads it:
/// - `Name: value` sends the field. Every `-H` is sent, in the order given, so `-H 'X-A: 1' -H
///   'X-A: 2'` sends both lines (they used to replace each other, leaving the last); the first
///   `-H` of a name replaces the field `get` would have sent on its own (`user-agent`,
///   `accept-encoding`, `content-type` with `-d`, `expect`).
/// - `Name:` (nothing after the colon) sends no such field: it removes the one `get` would have
///   sent (`-H 'Expect:'` sends a large body without waiting for `100 Continue`, `-H
///   'User-Agent:'` sends none) and those of earlier `-H`s.
/// - `Name;` sends the field with an empty value (curl: "If you send the custom header with
///   no-value then its header must be terminated with a semicolon").
/// - `Host: name` names the virtual host (`:authority`), and the URL says where to connect. A
///   request has one host (RFC 9112 §3.2: a server "MUST respond with a 400 (Bad Request) status
///   code to any HTTP/1.1 request message [...] that contains more than one Host header field
///   line"), so a second `-H 'Host: …'`, or `-H 'Host:'`, is refused.
struct HeaderOption: Equatable {
    /// The field's name, in lower case.
    var name: String
    /// The value to send, or nil to send no field of this name.
    var value: String?

    init(name: String, value: String?) {
        self.name = name
        self.value = value
    }

    /// Reads one `-H` argument; throws a `ValidationError` naming it when it is neither
    /// `name: value`, `name:` nor `name;`.
    init(parsing argument: String) throws {
        if let colon = argument.firstIndex(of: ":") {
            name = argument[..<colon].lowercased()
            let value = argument[argument.index(after: colon)...].drop { $0 == " " || $0 == "\t" }
            self.value = value.allSatisfy { $0 == " " || $0 == "\t" } ? nil : String(value)
        } else if let semicolon = argument.firstIndex(of: ";"),
            argument[argument.index(after: semicolon)...].allSatisfy({ $0 == " " || $0 == "\t" })
        {
            name = argument[..<semicolon].lowercased()
            value = ""
        } else {
            throw ValidationError("-H '\(argument)': expected 'name: value', 'name:' or 'name;'")
        }
        guard !name.isEmpty else {
            throw ValidationError("-H '\(argument)': expected 'name: value', 'name:' or 'name;'")
        }
        if name == "host" && value == nil {
            throw ValidationError("-H '\(argument)': a request needs a host (RFC 9112 §3.2)")
        }
    }

    /// Applies `options`, in order, to `headers`, which hold what `get` sends on its own.
    static func apply(_ options: [HeaderOption], to headers: inout Headers) throws {
        var given = Set<String>()
        for option in options {
            defer { given.insert(option.name) }
            guard option.name != "host" else {
                guard !given.contains("host"), let value = option.value else {
                    throw ValidationError("-H 'Host: …' given twice: a request has one host (RFC 9112 §3.2)")
                }
                try headers.upsert(":authority", value)
                continue
            }
            // The first of a name replaces `get`'s own field; a removal removes earlier -Hs too.
            if !given.contains(option.name) || option.value == nil { headers.delete(option.name) }
            if let value = option.value { headers.append(option.name, value) }
        }
    }
}
