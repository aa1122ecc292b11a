/// Reading a model file, in an order that bounds every cost by what the file really holds:
///
/// 1. the 8-byte header length, bounded by 100 MB and by the file size; then the header, whose
///    tensor table is checked against the file size (SafetensorsHeader);
/// 2. the format name and version; with a key, the presence of a signature;
/// 3. the spec, and from it the parameter tensors the model needs, computed without building the
///    model (ParameterLayout); the tensor table must match them exactly (names, F32, shapes), and
///    so must the input scaling and optimizer tensors; the training metadata is parsed and bounded;
/// 4. only then is the model built, and each tensor read once, in file order, straight into its
///    destination, the checksum (and signature) running over the bytes as they land;
/// 5. checksum and signature are compared, then the values validated (finite; non-negative where
///    an optimizer keeps squares) before the model is returned.
///
/// So a file of a few hundred bytes cannot make the loader allocate more than the file holds, and
/// what is verified is exactly what is used (no second read of the file after the check).
enum ModelFileSource {
    /// Bytes owned by the caller (they are read, never kept).
    case memory(UnsafeRawBufferPointer)
    case file(ReadableFile)

    var size: Int {
        switch self {
        case .memory(let bytes): bytes.count
        case .file(let file): file.size
        }
    }

    /// Copies `count` bytes at `offset` (inside `size`, as the callers check).
    func read(at offset: Int, into destination: UnsafeMutableRawPointer, count: Int) throws(AutoencoderError) {
        switch self {
        case .memory(let bytes):
            guard count > 0, let base = bytes.baseAddress else { return }
            destination.copyMemory(from: base + offset, byteCount: count)
        case .file(let file):
            try file.read(at: offset, into: destination, count: count)
        }
    }
}

extension ModelFile {
    /// The most epochs or optimizer steps a file may record: integers above 2^53 cannot be written
    /// exactly as JSON numbers.
    static let maxCount = 1 << 53

    /// The validated header of the model file at `path` (its metadata and tensor table), read
    /// without reading the tensors: for tools that show what a file holds.
    public static func header(path: String) throws(AutoencoderError) -> SafetensorsHeader {
        try readHeader(.file(ReadableFile(path: path)), name: path)
    }

    /// Step 1: the header length, bounded, then the header.
    static func readHeader(_ source: ModelFileSource, name: String) throws(AutoencoderError) -> SafetensorsHeader {
        var prefix = [UInt8](repeating: 0, count: 8)
        if source.size >= 8 {
            try withMutableBytes(of: &prefix) { (raw) throws(AutoencoderError) in try source.read(at: 0, into: raw.baseAddress!, count: 8) }
        }
        let headerLength = try withBytes(of: prefix) { (raw) throws(AutoencoderError) in
            try SafetensorsHeader.headerLength(prefix: raw, totalSize: source.size, source: name)
        }
        // The parsed JSON takes a few times the text's size; ask the C allocator before Swift does.
        guard FileIO.canAllocate(headerLength.multipliedReportingOverflow(by: 8).partialValue) else {
            throw .init(.outOfMemory, "\(name): cannot allocate memory to parse its \(headerLength)-byte header")
        }
        var headerBytes = [UInt8](repeating: 0, count: headerLength)
        try withMutableBytes(of: &headerBytes) { (raw) throws(AutoencoderError) in
            if headerLength > 0 { try source.read(at: 8, into: raw.baseAddress!, count: headerLength) }
        }
        let header = try withBytes(of: headerBytes) { (raw) throws(AutoencoderError) in
            try SafetensorsHeader(json: raw, totalSize: source.size, source: name)
        }
        return header
    }

    static func decode(_ source: ModelFileSource, name: String, key: ModelFileKey?) throws(AutoencoderError) -> Model {
        func fail(_ message: String) -> AutoencoderError { .format("\(name): \(message)") }
        let header = try readHeader(source, name: name)

        // 2. Format, version, signature presence.
        let metadata = header.metadata
        guard metadata["format"] == formatName else {
            throw fail("not an autoencoders model file (its safetensors metadata has no \"format\": \"autoencoders\")")
        }
        guard let versionText = metadata["format_version"], let version = Int(versionText), version >= 1 else {
            throw fail("the format_version metadata is missing or not a number")
        }
        guard version <= newestFormatVersion else {
            throw fail("written in model-file format \(version) by a newer library; this library (\(Version.string)) reads formats 1 to \(newestFormatVersion)")
        }
        if key != nil {
            guard version >= 2 else {
                throw fail("the file cannot be verified with a key: it is in model-file format 1, which has no signature (load it without a key, then save it signed)")
            }
            guard metadata["signature"] != nil else {
                throw fail("the file is not signed, so it cannot be verified with a key (it was saved without one)")
            }
        }

        // 3. Spec, expected tensors, training metadata: all before anything large is allocated.
        guard let specText = metadata["spec"] else { throw fail("the spec metadata is missing") }
        let spec: ModelSpec
        let layout: ParameterLayout
        do {
            spec = try ModelSpec(json: specText)
            layout = try ParameterLayout(spec: spec)
        } catch {
            throw fail("the stored spec is invalid: \(error.message)")
        }
        let training = try TrainingState(metadata["training"], spec: spec, name: name)
        let quantizerBits = try quantizerSection(metadata, version: version, name: name)
        let int8Section = try Int8FileSection(metadata, version: version, name: name)
        let plan = try TensorPlan(header: header, layout: layout, training: training, spec: spec, name: name,
                                  quantizerBits: quantizerBits, int8: int8Section)

        // 4. Build, and read every tensor once into its destination.
        // Every parameter is read below; initial values are drawn only to leave the generator where
        // a freshly built model's would be when the file does not restore it.
        let model = try Model(spec: spec, layout: layout, initialize: training.random == nil)
        let optimizer = training.optimizerStep == nil ? nil : try spec.optimizer.makeOptimizer(parameterCount: layout.trainableCount)
        var phaseOptimizers: [Optimizer?] = [nil, nil]
        if let adversarial = spec.adversarial {
            if training.phaseSteps[0] != nil {
                phaseOptimizers[0] = try adversarial.discriminatorOptimizer.makeOptimizer(parameterCount: layout.table.discriminatorRange.count)
            }
            if training.phaseSteps[1] != nil {
                phaseOptimizers[1] = try adversarial.generatorOptimizer.makeOptimizer(parameterCount: layout.table.encoderTrainableCount)
            }
        }
        let scaling = plan.hasScaling ? (offset: try FloatBuffer(count: layout.inputSize), scale: try FloatBuffer(count: layout.inputSize)) : nil
        let quantizerTensors = try plan.quantizerShapes.map { (shapes) throws(AutoencoderError) in
            (scale: try FloatBuffer(count: shapes.codeSize), zeroPoint: try FloatBuffer(count: shapes.codeSize),
             frequencies: try FloatBuffer(count: shapes.codeSize * shapes.levels))
        }
        let int8Tensors = try plan.int8Layers.map { (layer) throws(AutoencoderError) in try Int8FileSection.Tensors(layer) }
        var digest = ModelFileDigest(version: version, key: key)
        for entry in header.entries {
            let destination: UnsafeMutableRawPointer
            switch plan.destinations[entry.name] {
            case .parameter(let offset): destination = UnsafeMutableRawPointer(model.parameters.pointer + offset)
            case .scalingOffset: destination = UnsafeMutableRawPointer(scaling!.offset.pointer)
            case .scalingScale: destination = UnsafeMutableRawPointer(scaling!.scale.pointer)
            case .optimizer(let slot): destination = UnsafeMutableRawPointer(optimizer!.state[slot].buffer.pointer)
            case .phaseOptimizer(let which, let slot):
                destination = UnsafeMutableRawPointer(phaseOptimizers[which]!.state[slot].buffer.pointer)
            case .quantizerScale: destination = UnsafeMutableRawPointer(quantizerTensors!.scale.pointer)
            case .quantizerZeroPoint: destination = UnsafeMutableRawPointer(quantizerTensors!.zeroPoint.pointer)
            case .quantizerFrequencies: destination = UnsafeMutableRawPointer(quantizerTensors!.frequencies.pointer)
            case .int8Weight(let index): destination = UnsafeMutableRawPointer(int8Tensors[index].values)
            case .int8Scale(let index): destination = UnsafeMutableRawPointer(int8Tensors[index].scales.pointer)
            case .int8Range(let index): destination = UnsafeMutableRawPointer(int8Tensors[index].range.pointer)
            case nil: throw .init(.internal, "\(name): tensor \(entry.name) has no destination")
            }
            try source.read(at: entry.byteRange.lowerBound, into: destination, count: entry.byteRange.count)
            digest.data(UnsafeRawBufferPointer(start: destination, count: entry.byteRange.count))
            #if !_endian(little)
            if entry.dtype == .f32 {
                let floats = destination.assumingMemoryBound(to: Float.self)
                for i in 0..<entry.elementCount { floats[i] = Float(bitPattern: UInt32(littleEndian: floats[i].bitPattern)) }
            }
            #endif
        }

        // 5. Integrity, then values.
        let (checksum, signature) = digest.finish(tensors: header.entries.map { ($0.name, $0.dtype, $0.shape, $0.byteRange.lowerBound - header.dataStart ..< $0.byteRange.upperBound - header.dataStart) },
                                                  metadata: metadata)
        // With a key the signature decides (a forged file would carry a matching CRC anyway).
        if let signature {
            let storedSignature = Array((metadata["signature"] ?? "").utf8)
            guard HMACSHA256.equal(storedSignature, Array(signature.utf8)) else {
                throw fail("signature mismatch: the file was changed after it was signed, or signed with a different key")
            }
        }
        guard let stored = metadata["checksum"], stored == checksum else {
            throw fail("checksum mismatch: the file is corrupted (stored \(metadata["checksum"] ?? "none"), computed \(checksum))")
        }
        if let int8Section {
            try int8Section.attach(int8Tensors, to: model, name: name)
        }
        for entry in layout.entries {
            let values = UnsafeBufferPointer(start: model.parameters.pointer + entry.offset, count: entry.count)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw fail("parameter \(entry.name)[\(bad)] is \(values[bad]); parameters must be finite")
            }
        }
        if let scaling {
            do {
                model.inputScaling = try InputScaling(offset: scaling.offset.array, scale: scaling.scale.array)
            } catch {
                throw fail(error.message)
            }
        }
        if let quantizerTensors, let quantizerBits {
            model.quantizer = try CodeQuantizer(bits: quantizerBits, scale: quantizerTensors.scale.array,
                                                zeroPoint: quantizerTensors.zeroPoint.array,
                                                frequencies: quantizerTensors.frequencies.array, source: name)
        }
        if let optimizer, let step = training.optimizerStep {
            try validateOptimizerState(optimizer, name: name)
            optimizer.stepCount = step
            model.optimizer = optimizer
        }
        for (which, phase) in phaseOptimizers.enumerated() {
            guard let phase, let step = training.phaseSteps[which] else { continue }
            try validateOptimizerState(phase, name: name)
            phase.stepCount = step
        }
        model.discriminatorOptimizer = phaseOptimizers[0]
        model.generatorOptimizer = phaseOptimizers[1]
        model.epochsCompleted = training.epochsCompleted
        model.threshold = training.threshold
        if let random = training.random { model.random = random }
        return model
    }

    /// The bits of the quantiser section (format 3), or nil when the file has none.
    private static func quantizerSection(_ metadata: [String: String], version: Int, name: String) throws(AutoencoderError) -> Int? {
        guard let text = metadata["quantizer"] else { return nil }
        func fail(_ message: String) -> AutoencoderError { .format("\(name): \(message)") }
        guard version >= quantizerFormatVersion else {
            throw fail("the file has a quantizer section but is of model-file format \(version); quantizers need format \(quantizerFormatVersion)")
        }
        guard let json = try? JSON.parse(text), let object = json.objectValue,
              let bits = object["bits"]?.intValue, CodeQuantizer.bitRange.contains(bits),
              object["frequency_bits"]?.intValue == Int(CodeQuantizer.frequencyBits),
              object["coder"]?.stringValue == "range" else {
            throw fail("the quantizer metadata must be {\"bits\": 4 to 8, \"frequency_bits\": \(CodeQuantizer.frequencyBits), \"coder\": \"range\"}, got \(text)")
        }
        return bits
    }

    /// Optimizer state must be finite, and the running squares (Adam's exp_avg_sq, RMSprop's
    /// square_avg, Adagrad's sum) non-negative: a negative one would make the next step's square
    /// root NaN.
    private static func validateOptimizerState(_ optimizer: Optimizer, name: String) throws(AutoencoderError) {
        for (slot, buffer) in optimizer.state {
            let squares = ["exp_avg_sq", "square_avg", "sum"].contains(slot)
            for i in 0..<buffer.count {
                let value = buffer.pointer[i]
                guard value.isFinite, !squares || value >= 0 else {
                    throw .format("\(name): optimizer.\(slot)[\(i)] is \(value); optimizer state must be finite\(squares ? " and non-negative" : "")")
                }
            }
        }
    }
}

/// Where each tensor of a file goes, decided from the header alone.
private struct TensorPlan {
    enum Destination {
        case parameter(offset: Int)
        case scalingOffset, scalingScale
        case optimizer(slot: Int)
        /// An adversarial autoencoder's discriminator (0) or generator (1) optimizer.
        case phaseOptimizer(which: Int, slot: Int)
        case quantizerScale, quantizerZeroPoint, quantizerFrequencies
        case int8Weight(Int), int8Scale(Int), int8Range(Int)
    }

    var destinations: [String: Destination] = [:]
    var hasScaling = false
    var quantizerShapes: (codeSize: Int, levels: Int)?
    /// The int8 layers' weights, in the order of the file's "int8" metadata.
    var int8Layers: [Int8FileSection.Layer] = []

    init(header: SafetensorsHeader, layout: ParameterLayout, training: TrainingState, spec: ModelSpec,
         name: String, quantizerBits: Int?, int8: Int8FileSection?) throws(AutoencoderError) {
        func fail(_ message: String) -> AutoencoderError { .format("\(name): \(message)") }
        func expect(_ tensor: String, shape: [Int], what: String) throws(AutoencoderError) {
            guard let stored = header.entry(named: tensor) else { throw fail("the tensor \(tensor) is missing") }
            guard stored.dtype == .f32, stored.shape == shape else {
                throw fail("tensor \(tensor) is \(stored.dtype.rawValue) \(stored.shape); \(what) needs F32 \(shape)")
            }
        }
        var int8Index: [String: Int] = [:]
        for (index, layer) in (int8?.layers ?? []).enumerated() {
            guard let entry = layout.entries.first(where: { $0.name == layer + ".weight" }), entry.shape.count >= 2 else {
                throw fail("the int8 metadata names layer \(layer), which has no weight in the spec")
            }
            guard int8Index[entry.name] == nil else { throw fail("the int8 metadata names layer \(layer) twice") }
            int8Index[entry.name] = index
            int8Layers.append(.init(name: layer, shape: entry.shape, calibrated: int8!.calibrated))
        }
        for entry in layout.entries {
            if let index = int8Index[entry.name] {
                guard let stored = header.entry(named: entry.name) else { throw fail("the tensor \(entry.name) is missing") }
                guard stored.dtype == .i8, stored.shape == entry.shape else {
                    throw fail("tensor \(entry.name) is \(stored.dtype.rawValue) \(stored.shape); an int8 layer's weight is I8 \(entry.shape)")
                }
                destinations[entry.name] = .int8Weight(index)
                let layer = int8Layers[index]
                try expect(layer.name + ".weight_scale", shape: [entry.shape[0]], what: "an int8 weight's scales")
                destinations[layer.name + ".weight_scale"] = .int8Scale(index)
                if layer.calibrated {
                    try expect(layer.name + ".input_range", shape: [2], what: "a calibrated int8 layer's input range")
                    destinations[layer.name + ".input_range"] = .int8Range(index)
                }
                continue
            }
            try expect(entry.name, shape: entry.shape, what: "the spec")
            destinations[entry.name] = .parameter(offset: entry.offset)
        }
        let hasOffset = header.entry(named: "input_scaling.offset") != nil
        let hasScale = header.entry(named: "input_scaling.scale") != nil
        if hasOffset || hasScale {
            try expect("input_scaling.offset", shape: [layout.inputSize], what: "the model's input")
            try expect("input_scaling.scale", shape: [layout.inputSize], what: "the model's input")
            destinations["input_scaling.offset"] = .scalingOffset
            destinations["input_scaling.scale"] = .scalingScale
            hasScaling = true
        }
        if training.optimizerStep != nil {
            // The slot names, from an optimizer over no parameters (nothing is allocated).
            let slots = try spec.optimizer.makeOptimizer(parameterCount: 0).state.map(\.name)
            for (index, slot) in slots.enumerated() {
                try expect("optimizer.\(slot)", shape: [layout.trainableCount], what: "the optimizer state")
                destinations["optimizer.\(slot)"] = .optimizer(slot: index)
            }
        }
        if let adversarial = spec.adversarial {
            let phases = [(ModelFile.discriminatorOptimizerPrefix, adversarial.discriminatorOptimizer, layout.table.discriminatorRange.count),
                          (ModelFile.generatorOptimizerPrefix, adversarial.generatorOptimizer, layout.table.encoderTrainableCount)]
            for (which, (prefix, configuration, count)) in phases.enumerated() where training.phaseSteps[which] != nil {
                let slots = try configuration.makeOptimizer(parameterCount: 0).state.map(\.name)
                for (index, slot) in slots.enumerated() {
                    try expect("\(prefix).\(slot)", shape: [count], what: "the \(prefix) state")
                    destinations["\(prefix).\(slot)"] = .phaseOptimizer(which: which, slot: index)
                }
            }
        }
        if let quantizerBits {
            let codeSize = layout.graph.codeSize, levels = 1 << quantizerBits
            try expect("quantizer.scale", shape: [codeSize], what: "the model's code")
            try expect("quantizer.zero_point", shape: [codeSize], what: "the model's code")
            try expect("quantizer.frequencies", shape: [codeSize, levels], what: "a \(quantizerBits)-bit quantiser of the model's code")
            destinations["quantizer.scale"] = .quantizerScale
            destinations["quantizer.zero_point"] = .quantizerZeroPoint
            destinations["quantizer.frequencies"] = .quantizerFrequencies
            quantizerShapes = (codeSize, levels)
        }
        for entry in header.entries where destinations[entry.name] == nil {
            throw fail("unexpected tensor \(entry.name)")
        }
    }
}

/// The "training" metadata, parsed and bounded.
struct TrainingState {
    var epochsCompleted = 0
    var threshold: Float?
    var random: RandomGenerator?
    /// Non-nil when the file carries optimizer state.
    var optimizerStep: Int?
    /// The step counts of an adversarial autoencoder's discriminator and generator optimizers,
    /// non-nil when the file carries their state.
    var phaseSteps: [Int?] = [nil, nil]

    init(_ text: String?, spec: ModelSpec, name: String) throws(AutoencoderError) {
        func fail(_ message: String) -> AutoencoderError { .format("\(name): \(message)") }
        guard let text else { return }
        guard let json = try? JSON.parse(text), let training = json.objectValue else {
            throw fail("the training metadata is not a JSON object")
        }
        func count(_ key: String) throws(AutoencoderError) -> Int? {
            guard let value = training[key] else { return nil }
            guard let int = value.intValue, int >= 0, int <= ModelFile.maxCount else {
                throw fail("\(key) must be an integer from 0 to 2^53, got \(value.serialized())")
            }
            return int
        }
        epochsCompleted = try count("epochs_completed") ?? 0
        if let value = training["anomaly_threshold"] {
            // A value that is finite as a double but not as a float (1e300) would become infinity.
            guard let double = value.doubleValue, double.isFinite, double >= 0, Float(double).isFinite else {
                throw fail("anomaly_threshold must be a non-negative number that fits a 32-bit float, got \(value.serialized())")
            }
            threshold = Float(double)
        }
        if let value = training["random_state"] {
            let words = (value.arrayValue ?? []).map { $0.stringValue.flatMap { UInt64($0, radix: 16) } }
            guard words.count == 4, let a = words[0], let b = words[1], let c = words[2], let d = words[3],
                  (a | b | c | d) != 0 else {
                throw fail("the random_state metadata must hold 4 hexadecimal words, not all zero")
            }
            random = RandomGenerator(state: (a, b, c, d))
        }
        if let value = training["optimizer"] {
            guard let optimizerName = value.stringValue else { throw fail("the optimizer metadata must be a string") }
            guard optimizerName == spec.optimizer.name else {
                throw fail("the optimizer state is for \(optimizerName) but the spec's optimizer is \(spec.optimizer.name)")
            }
            optimizerStep = try count("optimizer_step") ?? 0
        }
        if spec.adversarial != nil {
            phaseSteps = [try count("\(ModelFile.discriminatorOptimizerPrefix)_step"), try count("\(ModelFile.generatorOptimizerPrefix)_step")]
        }
    }
}
