/// The model file: a safetensors file (8-byte little-endian header length, JSON header, packed
/// little-endian tensors), so any safetensors or numpy reader can inspect a model and nothing
/// executable is ever loaded. Its `__metadata__` holds:
///
///     format           "autoencoders"
///     format_version   "1"
///     library_version  the writer's version
///     spec             the model's JSON spec
///     training         JSON: epochs completed, random generator state, optimizer name and step,
///                      anomaly threshold
///     checksum         "crc32:<8 hex digits>" over the metadata lines above and the data section
///
/// Tensors: every parameter by name ("encoder.0.linear.weight", PyTorch's [out, in] layout), the
/// input scaling ("input_scaling.offset", "input_scaling.scale") when set, and optionally the
/// optimizer state ("optimizer.exp_avg", ... as long as the flat parameter buffer).
public enum ModelFile {
    public static let formatName = "autoencoders"
    public static let formatVersion = 1

    /// The complete file bytes of `model`.
    public static func encode(_ model: Model, includeOptimizerState: Bool = true) throws(AutoencoderError) -> [UInt8] {
        try model.lock.withReadLock { () throws(AutoencoderError) -> [UInt8] in
            var writer = SafetensorsWriter()
            var crc = CRC32()
            func add(_ name: String, _ shape: [Int], _ pointer: UnsafePointer<Float>, _ count: Int) throws(AutoencoderError) {
                let buffer = UnsafeBufferPointer(start: pointer, count: count)
                try writer.add(name, shape: shape, floats: buffer)
                crc.update(UnsafeRawBufferPointer(buffer))
            }
            for entry in model.parameterEntries {
                try add(entry.name, entry.shape, model.parameters.pointer + entry.offset, entry.count)
            }
            if let scaling = model.inputScaling {
                try scaling.offset.withUnsafeBufferPointer { (p) throws(AutoencoderError) in try add("input_scaling.offset", [p.count], p.baseAddress!, p.count) }
                try scaling.scale.withUnsafeBufferPointer { (p) throws(AutoencoderError) in try add("input_scaling.scale", [p.count], p.baseAddress!, p.count) }
            }
            var training: JSONObject = ["epochs_completed": .number(Double(model.epochsCompleted)),
                                        "random_state": .array(model.random.hexState.map { .string($0) })]
            if let threshold = model.threshold { training["anomaly_threshold"] = .number(Double(threshold)) }
            if includeOptimizerState, let optimizer = model.optimizer {
                training["optimizer"] = .string(optimizer.configuration.name)
                training["optimizer_step"] = .number(Double(optimizer.stepCount))
                for (name, buffer) in optimizer.state {
                    try add("optimizer.\(name)", [buffer.count], buffer.pointer, buffer.count)
                }
            }
            var metadata = [
                "format": formatName,
                "format_version": String(formatVersion),
                "library_version": Version.string,
                "spec": model.spec.json.serialized(),
                "training": JSON.object(training).serialized(),
            ]
            metadata["checksum"] = checksum(metadata: metadata, dataCRC: crc)
            writer.metadata = metadata
            return writer.encoded()
        }
    }

    /// A model from file bytes; `source` names them in errors (a path, or "model bytes").
    public static func decode(_ bytes: [UInt8], source: String) throws(AutoencoderError) -> Model {
        let file = try SafetensorsFile(bytes: bytes, source: source)
        let metadata = file.metadata
        guard metadata["format"] == formatName else {
            throw .format("\(source): not an autoencoders model file (its safetensors metadata has no \"format\": \"autoencoders\")")
        }
        guard let versionText = metadata["format_version"], let version = Int(versionText), version >= 1 else {
            throw .format("\(source): the format_version metadata is missing or not a number")
        }
        guard version <= formatVersion else {
            throw .format("\(source): written in model-file format \(version) by a newer library; this library (\(Version.string)) reads format \(formatVersion)")
        }
        var crc = CRC32()
        file.bytes.withUnsafeBytes { crc.update(UnsafeRawBufferPointer(rebasing: $0[file.dataStart...])) }
        guard let stored = metadata["checksum"], stored == checksum(metadata: metadata, dataCRC: crc) else {
            throw .format("\(source): checksum mismatch: the file is corrupted (stored \(metadata["checksum"] ?? "none"))")
        }
        guard let specText = metadata["spec"] else { throw .format("\(source): the spec metadata is missing") }
        let model: Model
        do {
            model = try Model(json: specText)
        } catch {
            throw .format("\(source): the stored spec is invalid: \(error.message)")
        }

        var known = Set<String>()
        for entry in model.parameterEntries {
            guard let stored = file.entry(named: entry.name) else {
                throw .format("\(source): the tensor \(entry.name) is missing")
            }
            guard stored.dtype == .f32, stored.shape == entry.shape else {
                throw .format("\(source): tensor \(entry.name) is \(stored.dtype.rawValue) \(stored.shape); the spec needs F32 \(entry.shape)")
            }
            try file.copyFloats(entry.name, into: model.parameters.pointer + entry.offset, count: entry.count)
            known.insert(entry.name)
        }
        for index in 0..<model.parameterCount where !model.parameters.pointer[index].isFinite {
            throw .format("\(source): a parameter value is not finite")
        }
        if file.entry(named: "input_scaling.offset") != nil || file.entry(named: "input_scaling.scale") != nil {
            let offset = try file.floats("input_scaling.offset"), scale = try file.floats("input_scaling.scale")
            guard offset.count == model.inputSize else {
                throw .format("\(source): input scaling has \(offset.count) features; the model has \(model.inputSize)")
            }
            model.inputScaling = try InputScaling(offset: offset, scale: scale)
            known.formUnion(["input_scaling.offset", "input_scaling.scale"])
        }
        try restoreTraining(model, file: file, source: source, known: &known)
        for entry in file.entries where !known.contains(entry.name) {
            throw .format("\(source): unexpected tensor \(entry.name)")
        }
        return model
    }

    private static func restoreTraining(_ model: Model, file: SafetensorsFile, source: String,
                                        known: inout Set<String>) throws(AutoencoderError) {
        guard let text = file.metadata["training"] else { return }
        guard let json = try? JSON.parse(text), let training = json.objectValue else {
            throw .format("\(source): the training metadata is not a JSON object")
        }
        if let epochs = training["epochs_completed"]?.intValue, epochs >= 0 { model.epochsCompleted = epochs }
        if let threshold = training["anomaly_threshold"] {
            guard let value = threshold.doubleValue, value >= 0, value.isFinite else {
                throw .format("\(source): anomaly_threshold must be a non-negative number")
            }
            model.threshold = Float(value)
        }
        if let state = training["random_state"]?.arrayValue {
            let words = state.compactMap { $0.stringValue.flatMap { UInt64($0, radix: 16) } }
            guard words.count == 4 else { throw .format("\(source): the random_state metadata must hold 4 hexadecimal words") }
            model.random = RandomGenerator(state: (words[0], words[1], words[2], words[3]))
        }
        guard let name = training["optimizer"]?.stringValue else { return }
        guard name == model.spec.optimizer.name else {
            throw .format("\(source): the optimizer state is for \(name) but the spec's optimizer is \(model.spec.optimizer.name)")
        }
        let optimizer = try model.trainingOptimizer()
        optimizer.stepCount = max(0, training["optimizer_step"]?.intValue ?? 0)
        for (slot, buffer) in optimizer.state {
            let tensor = "optimizer.\(slot)"
            guard file.entry(named: tensor) != nil else { throw .format("\(source): the optimizer tensor \(tensor) is missing") }
            try file.copyFloats(tensor, into: buffer.pointer, count: buffer.count)
            known.insert(tensor)
        }
    }

    /// "crc32:<hex>" over the sorted "key=value\n" lines of every metadata entry but the checksum,
    /// continuing the CRC of the data section.
    private static func checksum(metadata: [String: String], dataCRC: CRC32) -> String {
        var crc = dataCRC
        for key in metadata.keys.sorted() where key != "checksum" {
            var line = "\(key)=\(metadata[key]!)\n"
            line.withUTF8 { crc.update(UnsafeRawBufferPointer($0)) }
        }
        let hex = String(crc.value, radix: 16)
        return "crc32:" + String(repeating: "0", count: 8 - hex.count) + hex
    }
}

extension Model {
    /// Saves atomically: a temporary file in the same folder, fsync, rename. A failure leaves any
    /// existing file untouched.
    public func save(to path: String, includeOptimizerState: Bool = true) throws(AutoencoderError) {
        let bytes = try ModelFile.encode(self, includeOptimizerState: includeOptimizerState)
        // Array.withUnsafeBytes does not carry typed throws; pass the error out by value.
        let failure = bytes.withUnsafeBytes { raw -> AutoencoderError? in
            do throws(AutoencoderError) { try FileIO.writeAtomically(path: path, bytes: raw); return nil } catch { return error }
        }
        if let failure { throw failure }
    }

    /// The model-file bytes, for saving elsewhere (a database, a network).
    public func serialized(includeOptimizerState: Bool = true) throws(AutoencoderError) -> [UInt8] {
        try ModelFile.encode(self, includeOptimizerState: includeOptimizerState)
    }

    public static func load(from path: String) throws(AutoencoderError) -> Model {
        try ModelFile.decode(try FileIO.readAll(path: path), source: path)
    }

    public static func load(bytes: [UInt8]) throws(AutoencoderError) -> Model {
        try ModelFile.decode(bytes, source: "model bytes")
    }
}

extension RandomGenerator {
    var hexState: [String] { [state.0, state.1, state.2, state.3].map { String($0, radix: 16) } }
}
