import HTTPCore

/// The methods one of the demo's resources performs, and what a request with any other method
/// gets there (RFC 9110 §9.1):
/// - OPTIONS, which every resource answers: 204 with `allow` (RFC 9110 §9.3.7);
/// - a method the demo recognizes (`recognized`) but the resource does not perform: 405 with
///   `allow` ("An origin server that receives a request method that is recognized and
///   implemented, but not allowed for the target resource, SHOULD respond with the 405 (Method
///   Not Allowed) status code", and §15.5.6: "The origin server MUST generate an Allow header
///   field in a 405 response");
/// - any other method: 501 ("An origin server that receives a request method that is
///   unrecognized or not implemented SHOULD respond with the 501 (Not Implemented) status
///   code"). Methods are case-sensitive (§9.1), so `get` is one of these.
public struct AllowedMethods: Sendable {
    /// The methods performed, OPTIONS aside.
    public let methods: [String]
    /// The `allow` field value: `methods`, then OPTIONS, joined by `, `.
    public let allowField: String

    /// A resource that performs `methods` (which do not include OPTIONS) and answers OPTIONS.
    public init(_ methods: [String]) {
        self.methods = methods
        allowField = (methods + ["OPTIONS"]).joined(separator: ", ")
    }

    /// GET and HEAD: static files and `/hello`.
    public static let getAndHead = AllowedMethods(["GET", "HEAD"])

    /// The methods the demo recognizes: those of RFC 9110 §9.3 and PATCH (RFC 5789). Each is
    /// performed by some resource or answered 405 with the methods that are.
    public static let recognized: Set<String> = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ]

    /// What a request with `method` gets instead of the resource's own answer: nil when the
    /// resource performs `method`; else 204 with `allow` for OPTIONS, 405 with `allow` for a
    /// method in `recognized`, 501 for any other.
    public func answer(to method: String) -> StaticFilePlan? {
        if methods.contains(method) { return nil }
        if method == "OPTIONS" { return options }
        if Self.recognized.contains(method) { return .text(405, [("allow", allowField)]) }
        return .text(501)
    }

    /// The answer to OPTIONS: 204 with `allow`, and no `content-length` (RFC 9110 §8.6: "A
    /// server MUST NOT send a Content-Length header field in any response with a status code of
    /// 1xx (Informational) or 204 (No Content)").
    public var options: StaticFilePlan {
        var headers = StaticFilePlan.statusHeaders(204)
        headers.append("allow", allowField)
        return .bytes(status: 204, headers: headers, body: [])
    }
}
