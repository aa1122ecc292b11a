import Autoencoders

/// `autoencoders inspect`: what a model file holds, as text or JSON.
enum InspectCommand {
    static let usage = """
    Usage: autoencoders inspect MODEL.aem [--json] [--key-file KEY]
           autoencoders inspect --model MODEL.aem [--json] [--key-file KEY]
           autoencoders inspect --system [--json]

    Shows a model file's format and library version, its task (reconstruction, or segmentation
    with its classes), input and code shapes (a VAE's code is marked variational, with its beta),
    branch heads, parameter tensors, input scaling, training state (epochs, optimizer step) and
    spec. The file is fully validated (checksum included) first.

    With --system: this machine as the library sees it: the CPU, its vector extensions, the GEMM
    kernel selected for it and why (AVX-512F, AVX2 + FMA or OpenBLAS; AE_GEMM chooses), OpenBLAS's
    version and core (OPENBLAS_CORETYPE), the thread settings.

    Options:
      MODEL.aem, --model MODEL.aem   the model file
      --json              print one JSON object instead of text
      --key-file KEY      accept the file only if it is signed with this secret key
      --system            describe the machine and the kernels instead of a model file
    """

    static let options: [Option] = [.value("--model", "MODEL.aem"), .flag("--json"), Shared.keyFile, .flag("--system")]

    /// How many input-scaling values to show.
    static let scalingPreview = 8

    /// The facts shown, gathered from the loaded model and the file's metadata.
    struct Facts {
        var path: String
        var fileSize: Int
        var formatVersion: String
        var libraryVersion: String
        var model: Model
        var optimizerStep: Int?
    }

    static func run(_ arguments: Arguments) throws {
        if arguments.flag("--system") {
            guard arguments.string("--model") == nil else {
                throw CLIError.usage("'autoencoders inspect --system' takes no model file")
            }
            return try SystemInfo.run(arguments)
        }
        guard let path = arguments.string("--model") else {
            throw CLIError.usage("'autoencoders inspect' needs a model file: autoencoders inspect MODEL.aem (or --model MODEL.aem)")
        }
        let model = try Shared.loadModel(path, arguments)  // validates everything, checksum included
        let header = try ModelFile.header(path: path)
        let metadata = header.metadata
        let training = metadata["training"].flatMap { try? JSON.parse($0) }?.objectValue
        let facts = Facts(path: path, fileSize: header.totalSize, formatVersion: metadata["format_version"] ?? "?",
                          libraryVersion: metadata["library_version"] ?? "?", model: model,
                          optimizerStep: training?["optimizer_step"]?.intValue)
        Console.out(arguments.flag("--json") ? json(facts).serialized(pretty: true) : text(facts))
    }

    static func text(_ facts: Facts) -> String {
        let model = facts.model
        var lines: [String] = []
        func row(_ key: String, _ value: String) { lines.append(key.padding(17) + value) }
        row("file", "\(facts.path) (\(grouped(facts.fileSize)) bytes)")
        row("format", "\(ModelFile.formatName) \(facts.formatVersion)")
        row("library version", facts.libraryVersion)
        if let name = model.spec.name { row("name", name) }
        row("task", Shared.describeTask(model))
        row("input shape", describeShape(model.inputShape))
        if model.isSegmentation { row("output shape", describeShape([model.classCount] + model.inputShape.dropFirst()) + " (class logits)") }
        row("code shape", describeShape(model.codeShape))
        if let code = Shared.variationalCode(of: model) { row("code", Shared.describeVariational(code)) }
        if !model.spec.branches.isEmpty { row("branches", Shared.describeBranches(model) + " (training only)") }
        if let adversarial = model.spec.adversarial {
            let steps = model.adversarialStepCounts
            row("adversarial", Shared.describeAdversarial(adversarial))
            row("phase optimizers", "discriminator \(adversarial.discriminatorOptimizer.name), lr "
                + format("%g", Double(adversarial.discriminatorOptimizer.learningRate)) + ", step \(steps.discriminator); generator "
                + "\(adversarial.generatorOptimizer.name), lr " + format("%g", Double(adversarial.generatorOptimizer.learningRate))
                + ", step \(steps.generator)")
        }
        row("can decode", model.isSegmentation ? "no (use segment)" : model.canDecode ? "yes" : "no (use reconstruct)")
        row("loss", model.spec.lossName)
        let optimizer = model.spec.optimizer
        row("optimizer", "\(optimizer.name), lr \(format("%g", Double(optimizer.learningRate))), "
            + (facts.optimizerStep.map { "step \($0)" } ?? "no saved state"))
        row("epochs completed", String(model.epochsCompleted))
        row("anomaly threshold", model.anomalyThreshold.map { format("%.6g", Double($0)) } ?? "none")
        row("int8", int8Summary(model))
        row("quantiser", model.codeQuantizer.map { "\($0.bits) bits, about " + format("%.1f", $0.bitsPerSample) + " bits per sample (compress)" } ?? "none")
        if let scaling = model.inputScaling {
            row("input scaling", "offset \(preview(scaling.offset)) scale \(preview(scaling.scale))")
        } else {
            row("input scaling", "none")
        }
        row("parameters", "\(grouped(model.parameterCount)) in \(model.parameterEntries.count) tensors")
        let entries = model.parameterEntries
        let nameWidth = max(4, entries.map(\.name.count).max() ?? 0) + 2
        let shapeWidth = max(5, entries.map { describeShape($0.shape).count }.max() ?? 0) + 2
        lines.append("  " + "name".padding(nameWidth) + "shape".padding(shapeWidth) + "count")
        for entry in entries {
            lines.append("  " + entry.name.padding(nameWidth) + describeShape(entry.shape).padding(shapeWidth) + grouped(entry.count))
        }
        lines.append("spec")
        lines.append(contentsOf: model.spec.json.serialized(pretty: true).split(separator: "\n", omittingEmptySubsequences: false).map { "  " + $0 })
        return lines.joined(separator: "\n")
    }

    static func json(_ facts: Facts) -> JSON {
        let model = facts.model
        func shape(_ s: [Int]) -> JSON { .array(s.map { .number(Double($0)) }) }
        func numbers(_ values: ArraySlice<Float>) -> JSON { .array(values.map { .number(exactDecimal($0)) }) }
        var object: JSONObject = [
            "file": .string(facts.path),
            "file_size": .number(Double(facts.fileSize)),
            "format": .string(ModelFile.formatName),
            "format_version": Int(facts.formatVersion).map { .number(Double($0)) } ?? .string(facts.formatVersion),
            "library_version": .string(facts.libraryVersion),
            "input_shape": shape(model.inputShape),
            "code_shape": shape(model.codeShape),
            "task": .string(model.isSegmentation ? "segmentation" : "reconstruction"),
            "classes": .number(Double(model.classCount)),
            "can_decode": .bool(model.canDecode && !model.isSegmentation),
            "loss": .string(model.spec.lossName),
            "optimizer": .object([
                "name": .string(model.spec.optimizer.name),
                "learning_rate": .number(exactDecimal(model.spec.optimizer.learningRate)),
                "step": facts.optimizerStep.map { .number(Double($0)) } ?? .null,
            ]),
            "epochs_completed": .number(Double(model.epochsCompleted)),
            "anomaly_threshold": model.anomalyThreshold.map { .number(Double($0)) } ?? .null,
            "quantizer_bits": model.codeQuantizer.map { .number(Double($0.bits)) } ?? .null,
            "int8": model.isInt8 ? .object([
                "activations": .string(model.int8IsCalibrated ? "calibrated" : "dynamic"),
                "layers": .array(model.int8QuantizedLayers.map { .string($0) }),
                "fallback": .array(model.int8FallbackLayers.map { .string($0) }),
                "kernel": .string(Int8GEMM.kernel),
            ]) : .null,
        ]
        object["adversarial"] = model.spec.adversarial.map { adversarial in
            .object([
                "discriminator_hidden": .array(adversarial.hidden.map { .number(Double($0)) }),
                "prior": .string(Shared.describePrior(adversarial.prior)),
                "prior_components": .number(Double(adversarial.prior.componentCount)),
                "supervised": .bool(adversarial.prior.isSupervised),
                "discriminator_step": .number(Double(model.adversarialStepCounts.discriminator)),
                "generator_step": .number(Double(model.adversarialStepCounts.generator)),
            ])
        } ?? .null
        if let code = Shared.variationalCode(of: model) {
            object["variational"] = .object([
                "units": .number(Double(code.units)),
                "beta": .number(exactDecimal(code.beta)),
                "kl_warmup_epochs": .number(Double(code.warmupEpochs)),
            ])
        } else {
            object["variational"] = .null
        }
        if let ignore = Shared.ignoreLabel(of: model) {
            object["ignore_index"] = .number(Double(ignore))
            object["label_shape"] = shape(Array(model.inputShape.dropFirst()))
        }
        if let scaling = model.inputScaling {
            object["input_scaling"] = .object([
                "features": .number(Double(scaling.offset.count)),
                "offset_first": numbers(scaling.offset.prefix(scalingPreview)),
                "scale_first": numbers(scaling.scale.prefix(scalingPreview)),
            ])
        } else {
            object["input_scaling"] = .null
        }
        object["parameters"] = .array(model.parameterEntries.map { entry in
            .object(["name": .string(entry.name), "shape": shape(entry.shape), "count": .number(Double(entry.count))])
        })
        object["total_parameters"] = .number(Double(model.parameterCount))
        object["spec"] = model.spec.json
        return .object(object)
    }

    /// "no (float)", or what runs in int8 and what in float.
    static func int8Summary(_ model: Model) -> String {
        guard model.isInt8 else { return "no (float weights)" }
        var text = "yes, inference only: \(model.int8QuantizedLayers.count) layers in int8 ("
            + (model.int8IsCalibrated ? "calibrated" : "dynamic") + " input ranges, kernel \(Int8GEMM.kernel))"
        if !model.int8FallbackLayers.isEmpty { text += "; in float: " + model.int8FallbackLayers.joined(separator: ", ") }
        return text
    }

    /// "[0, 0, 0, ... (784)]"
    static func preview(_ values: [Float]) -> String {
        let shown = values.prefix(scalingPreview).map { format("%g", Double($0)) }
        let more = values.count > scalingPreview ? ", ... (\(values.count))" : ""
        return "[" + shown.joined(separator: ", ") + more + "]"
    }

    /// The Double whose shortest decimal is the Float's (0.001, not 0.0010000000474974513).
    static func exactDecimal(_ value: Float) -> Double { Double(value.description) ?? Double(value) }

    /// "1,067,440"
    static func grouped(_ value: Int) -> String {
        var digits = String(value.magnitude)
        var groups: [Substring] = []
        while digits.count > 3 {
            groups.insert(Substring(digits.suffix(3)), at: 0)
            digits.removeLast(3)
        }
        groups.insert(Substring(digits), at: 0)
        return (value < 0 ? "-" : "") + groups.joined(separator: ",")
    }
}

extension String {
    /// Left-aligned in `width` columns (at least one space after).
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: Swift.max(1, width - count)) }
}
