#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writing a model file without building its image in memory: the tensors are listed as pointers
/// into the model's own buffers, the checksum (and signature) is computed over them in place, and
/// the header and then each tensor are sent to a sink (a temporary file, or one malloc'd block of
/// the exact size). The caller holds the model's read lock for the whole time.
struct ModelFileWriter {
    struct Tensor {
        let name: String
        let shape: [Int]
        /// F32 values, or the bytes of an I8 tensor (`dtype == .i8`).
        let pointer: UnsafePointer<Float>?
        let bytes: UnsafeRawPointer?
        let count: Int
        let dtype: SafetensorsDType

        init(name: String, shape: [Int], pointer: UnsafePointer<Float>, count: Int) {
            self.name = name
            self.shape = shape
            self.pointer = pointer
            self.bytes = nil
            self.count = count
            dtype = .f32
        }

        init(name: String, shape: [Int], int8 bytes: UnsafeRawPointer, count: Int) {
            self.name = name
            self.shape = shape
            self.pointer = nil
            self.bytes = bytes
            self.count = count
            dtype = .i8
        }

        var byteCount: Int { count * dtype.byteSize }
    }

    let tensors: [Tensor]
    /// Everything before the data section: the 8-byte length and the JSON header.
    let header: [UInt8]
    /// The size of the whole file.
    let totalSize: Int
    /// Copies of small arrays (the input scaling) that `tensors` points into.
    private let keepAlive: [FloatBuffer]
    /// The int8 weights without their row padding, that `tensors` points into.
    private let keepAliveBytes: [ByteArray]

    /// An owned copy of bytes, at a stable address.
    final class ByteArray {
        let pointer: UnsafeMutablePointer<Int8>
        init(_ values: [Int8]) {
            pointer = .allocate(capacity: max(values.count, 1))
            pointer.initialize(from: values, count: values.count)
        }
        deinit { pointer.deallocate() }
    }

    init(model: Model, includeOptimizerState: Bool, key: ModelFileKey?) throws(AutoencoderError) {
        var tensors: [Tensor] = []
        var keepAlive: [FloatBuffer] = []
        var keepAliveBytes: [ByteArray] = []
        // An int8 model (format 4): its quantised weights as I8, with their scales (and calibrated
        // input ranges) after the parameters (Quantization/Int8File.swift).
        let int8Weights = model.int8.map { state in
            Dictionary(uniqueKeysWithValues: state.layers.map { ("\($0.name).weight", $0.weights) })
        } ?? [:]
        var int8Extras: [Tensor] = []
        for entry in model.parameterEntries {
            if let weights = int8Weights[entry.name] {
                let bytes = ByteArray(weights.packedValues)
                keepAliveBytes.append(bytes)
                tensors.append(Tensor(name: entry.name, shape: entry.shape, int8: bytes.pointer, count: entry.count))
                let scales = try FloatBuffer(weights.scaleArray)
                keepAlive.append(scales)
                int8Extras.append(Tensor(name: entry.name + "_scale", shape: [weights.rows], pointer: scales.pointer, count: weights.rows))
                if let range = weights.calibrated {
                    let values = try FloatBuffer([range.scale, Float(range.zeroPoint)])
                    keepAlive.append(values)
                    int8Extras.append(Tensor(name: String(entry.name.dropLast("weight".count)) + "input_range", shape: [2],
                                             pointer: values.pointer, count: 2))
                }
                continue
            }
            tensors.append(Tensor(name: entry.name, shape: entry.shape, pointer: model.parameters.pointer + entry.offset, count: entry.count))
        }
        tensors += int8Extras
        if let scaling = model.inputScaling {
            for (name, values) in [("input_scaling.offset", scaling.offset), ("input_scaling.scale", scaling.scale)] {
                let copy = try FloatBuffer(values)
                keepAlive.append(copy)
                tensors.append(Tensor(name: name, shape: [values.count], pointer: copy.pointer, count: values.count))
            }
        }
        // The code quantiser (Codec/CodeQuantizer.swift), an optional section of format 3.
        if let quantizer = model.quantizer {
            for (name, values, shape) in [("quantizer.scale", quantizer.scale, [quantizer.codeSize]),
                                          ("quantizer.zero_point", quantizer.zeroPoint, [quantizer.codeSize]),
                                          ("quantizer.frequencies", quantizer.frequencies, [quantizer.codeSize, quantizer.levels])] {
                let copy = try FloatBuffer(values)
                keepAlive.append(copy)
                tensors.append(Tensor(name: name, shape: shape, pointer: copy.pointer, count: values.count))
            }
        }
        var training: JSONObject = ["epochs_completed": .number(Double(model.epochsCompleted)),
                                    "random_state": .array(model.random.hexState.map { .string($0) })]
        if let threshold = model.threshold { training["anomaly_threshold"] = .number(Double(threshold)) }
        if includeOptimizerState, let optimizer = model.optimizer {
            training["optimizer"] = .string(optimizer.configuration.name)
            training["optimizer_step"] = .number(Double(optimizer.stepCount))
            for (name, buffer) in optimizer.state {
                tensors.append(Tensor(name: "optimizer.\(name)", shape: [buffer.count], pointer: buffer.pointer, count: buffer.count))
            }
        }
        // An adversarial autoencoder's phase optimizers (format 4).
        if includeOptimizerState {
            for (prefix, optimizer) in [(ModelFile.discriminatorOptimizerPrefix, model.discriminatorOptimizer),
                                        (ModelFile.generatorOptimizerPrefix, model.generatorOptimizer)] {
                guard let optimizer else { continue }
                training["\(prefix)_step"] = .number(Double(optimizer.stepCount))
                for (name, buffer) in optimizer.state {
                    tensors.append(Tensor(name: "\(prefix).\(name)", shape: [buffer.count], pointer: buffer.pointer, count: buffer.count))
                }
            }
        }
        // The table: tensors back to back in the order listed.
        var table: [(name: String, dtype: SafetensorsDType, shape: [Int], range: Range<Int>)] = []
        var offset = 0
        for tensor in tensors {
            let (end, overflow) = offset.addingReportingOverflow(tensor.byteCount)
            guard !overflow else { throw .init(.outOfMemory, "the model file would be larger than \(Int.max) bytes") }
            table.append((tensor.name, tensor.dtype, tensor.shape, offset..<end))
            offset = end
        }
        var metadata = [
            "format": ModelFile.formatName,
            "format_version": String(model.int8 != nil ? ModelFile.int8FormatVersion
                                     : model.isAdversarial ? ModelFile.adversarialFormatVersion
                                     : model.quantizer == nil ? ModelFile.formatVersion : ModelFile.quantizerFormatVersion),
            "library_version": Version.string,
            "spec": model.spec.json.serialized(),
            "training": JSON.object(training).serialized(),
        ]
        if let quantizer = model.quantizer {
            metadata["quantizer"] = JSON.object(["bits": .number(Double(quantizer.bits)),
                                                 "frequency_bits": .number(Double(CodeQuantizer.frequencyBits)),
                                                 "coder": .string("range")]).serialized()
        }
        if let int8 = model.int8 {
            metadata["int8"] = JSON.object([
                "activations": .string(int8.isCalibrated ? "calibrated" : "dynamic"),
                "layers": .array(int8.layers.map { .string($0.name) }),
                "fallback": .array(int8.fallback.map { .string($0) }),
            ]).serialized()
        }
        var digest = ModelFileDigest(version: ModelFile.formatVersion, key: key)
        for tensor in tensors { Self.littleEndianBytes(tensor) { digest.data($0) } }
        let (checksum, signature) = digest.finish(tensors: table, metadata: metadata)
        metadata["checksum"] = checksum
        if let signature { metadata["signature"] = signature }
        header = SafetensorsWriter.header(metadata: metadata, tensors: table)
        let (total, overflow) = header.count.addingReportingOverflow(offset)
        guard !overflow else { throw .init(.outOfMemory, "the model file would be larger than \(Int.max) bytes") }
        totalSize = total
        self.tensors = tensors
        self.keepAlive = keepAlive
        self.keepAliveBytes = keepAliveBytes
    }

    /// Sends the whole file to `sink`.
    func write<Sink: ByteSink>(to sink: inout Sink) throws(AutoencoderError) {
        try withBytes(of: header) { (raw) throws(AutoencoderError) in try sink.write(raw) }
        for tensor in tensors {
            var failure: AutoencoderError? = nil
            Self.littleEndianBytes(tensor) { bytes in
                guard failure == nil else { return }
                do throws(AutoencoderError) { try sink.write(bytes) } catch { failure = error }
            }
            if let failure { throw failure }
        }
        withExtendedLifetime(keepAlive) {}
        withExtendedLifetime(keepAliveBytes) {}
    }

    /// Calls `body` with the tensor's bytes in little-endian order: the values themselves on a
    /// little-endian machine, swapped copies in 64 KiB pieces elsewhere.
    private static func littleEndianBytes(_ tensor: Tensor, _ body: (UnsafeRawBufferPointer) -> Void) {
        if let bytes = tensor.bytes { return body(UnsafeRawBufferPointer(start: bytes, count: tensor.byteCount)) }
        guard let pointer = tensor.pointer else { return }
        #if _endian(little)
        body(UnsafeRawBufferPointer(start: pointer, count: tensor.byteCount))
        #else
        withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 16384) { piece in
            var done = 0
            while done < tensor.count {
                let n = min(16384, tensor.count - done)
                for i in 0..<n { piece[i] = pointer[done + i].bitPattern.littleEndian }
                body(UnsafeRawBufferPointer(start: piece.baseAddress, count: 4 * n))
                done += n
            }
        }
        #endif
    }
}

extension ModelFile {
    /// The model file in one malloc'd block (release it with free): its size is known before
    /// anything is allocated, and a failed allocation is `.outOfMemory`, never a trap.
    public static func encodeToMalloc(_ model: Model, includeOptimizerState: Bool = true,
                                      key: ModelFileKey? = nil) throws(AutoencoderError) -> (pointer: UnsafeMutableRawPointer, count: Int) {
        try model.lock.withReadLock { () throws(AutoencoderError) -> (pointer: UnsafeMutableRawPointer, count: Int) in
            let writer = try ModelFileWriter(model: model, includeOptimizerState: includeOptimizerState, key: key)
            guard let buffer = malloc(max(writer.totalSize, 1)) else {
                throw .init(.outOfMemory, "cannot allocate \(writer.totalSize) bytes for the model file")
            }
            var sink = MemorySink(base: buffer, capacity: writer.totalSize)
            do throws(AutoencoderError) {
                try writer.write(to: &sink)
            } catch {
                free(buffer)
                throw error
            }
            return (buffer, writer.totalSize)
        }
    }

    /// The complete file bytes of `model` as an array (Swift callers; the C ABI uses encodeToMalloc).
    public static func encode(_ model: Model, includeOptimizerState: Bool = true,
                              key: ModelFileKey? = nil) throws(AutoencoderError) -> [UInt8] {
        let (pointer, count) = try encodeToMalloc(model, includeOptimizerState: includeOptimizerState, key: key)
        defer { free(pointer) }
        guard FileIO.canAllocate(count) else { throw .init(.outOfMemory, "cannot allocate \(count) bytes for the model file") }
        return [UInt8](UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Saves `model` to `path` atomically, streaming the tensors from the model's buffers.
    static func save(_ model: Model, to path: String, includeOptimizerState: Bool, key: ModelFileKey?) throws(AutoencoderError) {
        try model.lock.withReadLock { () throws(AutoencoderError) in
            let writer = try ModelFileWriter(model: model, includeOptimizerState: includeOptimizerState, key: key)
            try FileIO.writeAtomically(path: path) { (sink: inout FileSink) throws(AutoencoderError) in try writer.write(to: &sink) }
        }
    }
}
