#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A reason to stop: `usage` is a mistake on the command line (exit 2, with a pointer to --help);
/// `failure` is anything else that went wrong (exit 1); `interrupted` is Ctrl-C (exit 130, as a
/// shell reports a command ended by SIGINT), after whatever was kept has been saved.
enum CLIError: Error {
    case usage(String)
    case failure(String)
    case interrupted(String)
}

/// Output helpers: results go to stdout, messages and progress to stderr.
enum Console {
    static let toolName = "autoencoders"

    static func out(_ text: String) {
        fputs(text, stdout)
        fputs("\n", stdout)
    }

    /// Writes to stderr without a newline, flushed (for progress redrawn with "\r").
    static func err(_ text: String) {
        fputs(text, stderr)
        fflush(stderr)
    }

    static func errLine(_ text: String) { err(text + "\n") }

    /// "autoencoders: <message>" on stderr.
    static func report(_ message: String) { errLine("\(toolName): \(message)") }

    static var stderrIsTerminal: Bool { isatty(2) == 1 }

    /// The terminal's width in columns, or nil when stderr is not a terminal.
    static var stderrColumns: Int? {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}

/// printf-style formatting of numbers (the standard library has no fixed-precision formatting).
func format(_ pattern: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 256)
        _ = vsnprintf(&buffer, buffer.count, pattern, list)
        return buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// A loss value: fixed notation with `digits` decimals when that keeps it readable, else scientific.
func formatLoss(_ value: Double, digits: Int) -> String {
    let magnitude = abs(value)
    if !value.isFinite || magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e6) {
        return format("%.\(digits)f", value)
    }
    return format("%.\(digits - 1)e", value)
}

/// "0:42", "12:05", "1:02:03".
func formatDuration(_ seconds: Double) -> String {
    let total = Int(max(0, seconds).rounded())
    let (h, m, s) = (total / 3600, (total / 60) % 60, total % 60)
    return h > 0 ? format("%d:%02d:%02d", h, m, s) : format("%d:%02d", m, s)
}

/// "[500, 28, 28]"
func describeShape(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
