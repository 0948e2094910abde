/// The library's name and version, as lua-http's `http.version`.
public enum StepwiseVersion {
    /// `"stepwise"`
    public static let name = "stepwise"
    /// `"0.1.0"` (semantic versioning)
    public static let version = "0.1.0"
    /// `"stepwise/0.1.0"`: the default `user-agent` and `server` value (an RFC 9110 §10.1.5
    /// product token).
    public static let userAgent = name + "/" + version
}
