/// A small command-line parser: `--name VALUE`, `--name=VALUE` and `--flag` options after the
/// subcommand; a command may take one positional argument that stands for one of its options
/// (`inspect MODEL.aem` is `inspect --model MODEL.aem`). Every mistake is a `CLIError.usage` naming the option.

/// An option a command accepts: a flag when `placeholder` is nil, else it takes a value.
struct Option {
    let name: String
    let placeholder: String?

    static func value(_ name: String, _ placeholder: String) -> Option { Option(name: name, placeholder: placeholder) }
    static func flag(_ name: String) -> Option { Option(name: name, placeholder: nil) }
}

struct Arguments {
    /// The subcommand, for messages ("train").
    let command: String
    /// True when --help or -h was given: the command prints its usage and nothing else is checked.
    let wantsHelp: Bool
    private var values: [String: String] = [:]
    private var flags: Set<String> = []

    /// `positionals` (or the one `positional`) name the options that bare arguments stand for, in
    /// order: `compress MODEL IN OUT` is `compress --model MODEL --data IN --out OUT`.
    init(command: String, tokens: [String], options: [Option], positional: String? = nil, positionals: [String] = []) throws {
        let slots = positionals.isEmpty ? (positional.map { [$0] } ?? []) : positionals
        self.command = command
        wantsHelp = tokens.contains("--help") || tokens.contains("-h")
        if wantsHelp { return }

        var index = 0
        while index < tokens.count {
            let token = tokens[index]
            index += 1
            guard token.hasPrefix("--"), token.count > 2 else {
                if slots.count > 1, !token.hasPrefix("-"), !token.isEmpty {
                    guard let slot = slots.first(where: { values[$0] == nil }) else {
                        throw CLIError.usage("unexpected argument '\(token)': '\(Console.toolName) \(command)' takes \(slots.count) files (\(slots.joined(separator: ", ")))")
                    }
                    values[slot] = token
                    continue
                }
                if let positional = slots.first, !token.hasPrefix("-"), !token.isEmpty {
                    guard values[positional] == nil else {
                        throw CLIError.usage("'\(token)' and \(positional) \(values[positional]!) both name the file; give one of them")
                    }
                    values[positional] = token
                    continue
                }
                throw CLIError.usage("unexpected argument '\(token)' for '\(Console.toolName) \(command)' (options start with --)")
            }
            var name = token
            var inline: String? = nil
            if let equals = token.firstIndex(of: "=") {
                name = String(token[..<equals])
                inline = String(token[token.index(after: equals)...])
            }
            guard let option = options.first(where: { $0.name == name }) else {
                var message = "unknown option '\(name)' for '\(Console.toolName) \(command)'"
                if let guess = Arguments.closest(to: name, among: options.map(\.name)) { message += "; did you mean '\(guess)'?" }
                throw CLIError.usage(message)
            }
            guard values[name] == nil, !flags.contains(name) else {
                if slots.contains(name) { throw CLIError.usage("\(name) and a positional file both name the file; give one of them") }
                throw CLIError.usage("\(name) is given more than once")
            }
            guard let placeholder = option.placeholder else {
                if inline != nil { throw CLIError.usage("\(name) is a flag and takes no value") }
                flags.insert(name)
                continue
            }
            if let inline {
                values[name] = inline
            } else if index < tokens.count, !tokens[index].hasPrefix("--") {
                values[name] = tokens[index]
                index += 1
            } else {
                throw CLIError.usage("\(name) needs a value (\(name) \(placeholder))")
            }
            if values[name]!.isEmpty { throw CLIError.usage("\(name) needs a non-empty value") }
        }
    }

    // MARK: Typed access

    func has(_ name: String) -> Bool { values[name] != nil || flags.contains(name) }

    func flag(_ name: String) -> Bool { flags.contains(name) }

    func string(_ name: String) -> String? { values[name] }

    func required(_ name: String) throws -> String {
        guard let value = values[name] else {
            throw CLIError.usage("'\(Console.toolName) \(command)' needs \(name)")
        }
        return value
    }

    func int(_ name: String, minimum: Int = Int.min, maximum: Int = Int.max) throws -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text) else { throw CLIError.usage("\(name) must be an integer, got '\(text)'") }
        guard value >= minimum, value <= maximum else {
            throw CLIError.usage("\(name) must be " + Arguments.range(minimum, maximum) + ", got \(value)")
        }
        return value
    }

    /// A finite number; `above` is an exclusive lower bound, `below` an exclusive upper bound.
    func double(_ name: String, minimum: Double? = nil, above: Double? = nil, below: Double? = nil) throws -> Double? {
        guard let text = values[name] else { return nil }
        guard let value = Double(text), value.isFinite else { throw CLIError.usage("\(name) must be a number, got '\(text)'") }
        if let minimum, value < minimum { throw CLIError.usage("\(name) must be at least \(minimum), got \(text)") }
        if let above, value <= above { throw CLIError.usage("\(name) must be greater than \(above), got \(text)") }
        if let below, value >= below { throw CLIError.usage("\(name) must be less than \(below), got \(text)") }
        return value
    }

    func choice(_ name: String, _ choices: [String]) throws -> String? {
        guard let text = values[name] else { return nil }
        guard choices.contains(text) else {
            throw CLIError.usage("\(name) must be one of \(choices.joined(separator: ", ")), got '\(text)'")
        }
        return text
    }

    /// Rejects giving both options of a pair.
    func exclusive(_ first: String, _ second: String) throws {
        if has(first) && has(second) { throw CLIError.usage("give \(first) or \(second), not both") }
    }

    // MARK: Helpers

    private static func range(_ minimum: Int, _ maximum: Int) -> String {
        if maximum == Int.max { return "at least \(minimum)" }
        return "between \(minimum) and \(maximum)"
    }

    /// The known option nearest to a misspelt one (edit distance at most 2), if any.
    static func closest(to name: String, among names: [String]) -> String? {
        let scored = names.map { ($0, distance(Array(name), Array($0))) }.filter { $0.1 <= 2 }
        return scored.min(by: { $0.1 < $1.1 })?.0
    }

    private static func distance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}

extension Substring {
    /// The text without the white space at either end (spaces, tabs, line ends), as a `String`.
    var trimmingSpaces: String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
