#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Autoencoders

/// `autoencoders`: the command-line tool. Exit status 0 on success, 1 when something fails, 2 for
/// a mistake on the command line.

struct Command {
    let name: String
    let summary: String
    let usage: String
    let options: [Option]
    /// The option a lone positional argument stands for (`inspect FILE`), if any.
    var positional: String? = nil
    /// The options that several bare arguments stand for, in order.
    var positionals: [String] = []
    let run: (Arguments) throws -> Void
}

let commands: [Command] = [
    Command(name: "train", summary: "train a model from a spec (or resume one) on a data file",
            usage: TrainCommand.usage, options: TrainCommand.options, run: TrainCommand.run),
    Command(name: "encode", summary: "write the codes of samples", usage: InferenceCommand.encodeUsage,
            options: InferenceCommand.encodeOptions, run: InferenceCommand.encode),
    Command(name: "decode", summary: "map codes back to data space", usage: InferenceCommand.decodeUsage,
            options: InferenceCommand.options, run: InferenceCommand.decode),
    Command(name: "reconstruct", summary: "write the reconstructions of samples", usage: InferenceCommand.reconstructUsage,
            options: InferenceCommand.reconstructOptions, run: InferenceCommand.reconstruct),
    Command(name: "score", summary: "per-sample anomaly scores and their statistics", usage: InferenceCommand.scoreUsage,
            options: InferenceCommand.scoreOptions, run: InferenceCommand.score),
    Command(name: "segment", summary: "label every position with a segmentation model", usage: SegmentCommand.usage,
            options: SegmentCommand.options, run: SegmentCommand.run),
    Command(name: "generate", summary: "new samples from a variational autoencoder's prior", usage: GenerateCommand.generateUsage,
            options: GenerateCommand.generateOptions, run: GenerateCommand.generate),
    Command(name: "interpolate", summary: "decode the path between the codes of two samples", usage: GenerateCommand.interpolateUsage,
            options: GenerateCommand.interpolateOptions, run: GenerateCommand.interpolate),
    Command(name: "threshold", summary: "fit the anomaly threshold on normal data", usage: AnomalyCommand.thresholdUsage,
            options: AnomalyCommand.thresholdOptions, run: AnomalyCommand.threshold),
    Command(name: "predict", summary: "label samples as anomalies (1) or normal (0)", usage: AnomalyCommand.predictUsage,
            options: AnomalyCommand.predictOptions, run: AnomalyCommand.predict),
    Command(name: "quantize", summary: "fit the code quantiser that compression needs", usage: CompressionCommand.quantizeUsage,
            options: CompressionCommand.quantizeOptions, positionals: ["--model", "--data"], run: CompressionCommand.quantize),
    Command(name: "quantize-int8", summary: "an int8 copy of a model for inference (weights in 8 bits)", usage: Int8Command.usage,
            options: Int8Command.options, positionals: ["--model", "--out"], run: Int8Command.run),
    Command(name: "compress", summary: "compress samples to a .aec file with a quantised model", usage: CompressionCommand.compressUsage,
            options: CompressionCommand.compressOptions, positionals: ["--model", "--data", "--out"], run: CompressionCommand.compress),
    Command(name: "decompress", summary: "decode a .aec file back to samples", usage: CompressionCommand.decompressUsage,
            options: CompressionCommand.decompressOptions, positionals: ["--model", "--data", "--out"], run: CompressionCommand.decompress),
    Command(name: "inspect", summary: "show what a model file holds", usage: InspectCommand.usage,
            options: InspectCommand.options, positional: "--model", run: InspectCommand.run),
    Command(name: "version", summary: "print the library and model-file format versions",
            usage: "Usage: autoencoders version\n\nPrints the library version and the model-file format version.",
            options: [], run: { _ in printVersion() }),
    Command(name: "help", summary: "show this help, or a command's (autoencoders help train)",
            usage: "Usage: autoencoders help [COMMAND]\n\nLists the commands, or prints COMMAND's usage and options.",
            options: [], run: { _ in Console.out(mainUsage) }),
]

let mainUsage = """
Usage: autoencoders COMMAND [options]

Trains autoencoders and applies them to data files (.npy of any numeric dtype, or numeric .csv).

Commands:
\(commands.map { "  " + $0.name.padding(13) + $0.summary }.joined(separator: "\n"))

Results (--out) are written as .npy, .csv or .tsv, by the name's extension.
Run 'autoencoders help COMMAND' or 'autoencoders COMMAND --help' for a command's options.
"""

func printVersion() {
    Console.out("autoencoders \(Version.string) (model-file format \(ModelFile.formatVersion))")
}

/// Runs the command line and returns the exit status.
func main(_ argv: [String]) -> Int32 {
    guard let name = argv.first else {
        Console.errLine(mainUsage)
        return 2
    }
    switch name {
    case "--help", "-h":
        Console.out(mainUsage)
        return 0
    case "--version":
        printVersion()
        return 0
    case "help" where argv.count > 1:
        guard let command = commands.first(where: { $0.name == argv[1] }) else { break }
        Console.out(command.usage)
        return 0
    default:
        break
    }
    let lookup = name == "help" && argv.count > 1 ? argv[1] : name
    guard let command = commands.first(where: { $0.name == lookup }) else {
        var message = "unknown command '\(lookup)'"
        if let guess = Arguments.closest(to: lookup, among: commands.map(\.name)) { message += "; did you mean '\(guess)'?" }
        Console.report(message + " (see 'autoencoders help')")
        return 2
    }
    do {
        let arguments = try Arguments(command: command.name, tokens: Array(argv.dropFirst()), options: command.options,
                                      positional: command.positional, positionals: command.positionals)
        if arguments.wantsHelp {
            Console.out(command.usage)
            return 0
        }
        try command.run(arguments)
        return 0
    } catch CLIError.usage(let message) {
        Console.report(message)
        Console.errLine("Run 'autoencoders \(command.name) --help' for usage.")
        return 2
    } catch CLIError.failure(let message) {
        Console.report(message)
        return 1
    } catch CLIError.interrupted(let message) {
        Console.report(message)
        return 130
    } catch let error as AutoencoderError {
        Console.report(error.message)
        return 1
    } catch {
        Console.report("\(error)")
        return 1
    }
}

exit(main(Array(CommandLine.arguments.dropFirst())))
