import Autoencoders

/// `autoencoders segment`: a segmentation model (spec "loss": "cross_entropy") labels every
/// position of every sample with its most likely class.
enum SegmentCommand {
    static let usage = """
    Usage: autoencoders segment --model MODEL.aem --data X.npy|X.csv --out LABELS.npy [--threads N]

    Labels every position of every sample with the most likely class of a segmentation model
    (one trained with "loss": "cross_entropy" and 'autoencoders train --labels'). Writes the
    labels as a float32 array of shape [N, ...spatial] (e.g. [N, 28, 28] for 1×28×28 inputs)
    and prints the share of positions given each class.
    """

    static let options: [Option] = [.value("--model", "MODEL.aem"), .value("--data", "X.npy"), .value("--out", "LABELS.npy"), Shared.threads, Shared.keyFile]

    static func run(_ arguments: Arguments) throws {
        let (model, modelPath, data, out) = try InferenceCommand.prepare(arguments, outRequired: true) { model, path in
            guard model.isSegmentation else {
                throw CLIError.failure("\(path) reconstructs its input (\"loss\": \"\(model.spec.lossName)\"); 'autoencoders segment' needs a segmentation model, trained from a spec with \"loss\": \"cross_entropy\" and --labels; use 'autoencoders reconstruct' for this one")
            }
        }
        let x = try data.matrix(expecting: model.inputSize, what: "the input size of \(modelPath)")
        let (shape, labels) = try model.segment(x)
        try writeOutput(out!, shape: shape, integers: labels)
        var counts = [Int](repeating: 0, count: model.classCount)
        for label in labels where label >= 0 && Int(label) < counts.count { counts[Int(label)] += 1 }
        Console.out("segmented \(shape[0]) sample\(shape[0] == 1 ? "" : "s") of \(describeShape(Array(shape.dropFirst()))) positions into \(model.classCount) classes")
        for (label, count) in counts.enumerated() {
            Console.out("class \(label)".padding(10) + format("%6.2f%%", labels.isEmpty ? 0 : 100 * Double(count) / Double(labels.count)))
        }
    }
}
