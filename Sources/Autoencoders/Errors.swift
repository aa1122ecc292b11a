/// The one error type of the core. Its `kind` maps one-to-one onto the C ABI's `ae_status`,
/// and its `message` is what `ae_last_error()` returns: it names the argument (or the JSON path
/// of a spec, or the file) and says what was expected.
public struct AutoencoderError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Int32, Sendable {
        /// An argument is out of range or malformed (`ae_status` AE_ERR_INVALID_ARGUMENT).
        case invalidArgument = 1
        /// A buffer's element count or a data shape does not match the model.
        case shapeMismatch = 2
        /// The JSON spec is malformed or describes an impossible model.
        case invalidSpec = 3
        /// A file could not be opened, read, written or renamed.
        case io = 4
        /// A model file is truncated, corrupted or of an unknown version.
        case format = 5
        /// NaN or infinite data, or a training run that diverged.
        case numeric = 6
        /// The operation does not apply to this model (for example decode-from-code of a U-Net).
        case unsupported = 7
        /// An allocation failed or a size overflowed.
        case outOfMemory = 8
        /// A bug: an invariant of the library did not hold.
        case `internal` = 9
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    public static func invalidArgument(_ message: String) -> AutoencoderError { .init(.invalidArgument, message) }
    public static func shapeMismatch(_ message: String) -> AutoencoderError { .init(.shapeMismatch, message) }
    public static func invalidSpec(_ path: String, _ message: String) -> AutoencoderError {
        .init(.invalidSpec, path.isEmpty ? message : "\(path): \(message)")
    }
    public static func io(_ message: String) -> AutoencoderError { .init(.io, message) }
    public static func format(_ message: String) -> AutoencoderError { .init(.format, message) }
    public static func numeric(_ message: String) -> AutoencoderError { .init(.numeric, message) }
    public static func unsupported(_ message: String) -> AutoencoderError { .init(.unsupported, message) }
}
