/// The library's version (semantic versioning); the C header's AE_VERSION_* macros must agree.
public enum Version {
    public static let major = 0
    public static let minor = 1
    public static let patch = 0
    public static var string: String { "\(major).\(minor).\(patch)" }
}
