/// The model file: a safetensors file (8-byte little-endian header length, JSON header, packed
/// little-endian tensors), so any safetensors or numpy reader can inspect a model and nothing
/// executable is ever loaded. Its `__metadata__` holds:
///
///     format           "autoencoders"
///     format_version   "2" (files of version 1 still load)
///     library_version  the writer's version
///     spec             the model's JSON spec
///     training         JSON: epochs completed, random generator state, optimizer name and step,
///                      anomaly threshold
///     checksum         "crc32:<8 hex digits>" over the data section, the tensor table and the
///                      other metadata (ModelFileIntegrity.swift)
///     quantizer        only in files with a code quantiser (format 3): JSON with bits,
///                      frequency_bits and coder
///     int8             only in int8 models (format 4): JSON with activations ("dynamic" or
///                      "calibrated"), layers (the quantised nodes) and fallback (the nodes with a
///                      weight matrix kept in float)
///     signature        only in files saved with a key: "hmac-sha256:<64 hex digits>" over the
///                      same message
///
/// Tensors: every parameter by name ("encoder.0.linear.weight", PyTorch's [out, in] layout), the
/// input scaling ("input_scaling.offset", "input_scaling.scale") when set, and optionally the
/// optimizer state ("optimizer.exp_avg", ... as long as the trainable part of the parameters).
///
/// Writing streams (ModelFileWriter.swift); reading bounds everything by the header and the file
/// size before it allocates (ModelFileReader.swift).
public enum ModelFile {
    public static let formatName = "autoencoders"
    /// The version written for a model without optional sections (older libraries read it).
    public static let formatVersion = 2
    /// The version written when the model carries a code quantiser (tensors "quantizer.*" and the
    /// metadata "quantizer").
    public static let quantizerFormatVersion = 3
    /// The version written for an adversarial autoencoder: its discriminator's parameters
    /// ("discriminator.*") and the state of the discriminator and generator optimizers
    /// ("discriminator_optimizer.*", "generator_optimizer.*", with their step counts in the
    /// training metadata). Older libraries could not read its spec anyway.
    public static let adversarialFormatVersion = 4
    static let discriminatorOptimizerPrefix = "discriminator_optimizer"
    static let generatorOptimizerPrefix = "generator_optimizer"
    /// The version written for an int8 model (Quantization/): its quantised weights are I8 tensors,
    /// with "<layer>.weight_scale" and, when calibrated, "<layer>.input_range", and the metadata
    /// "int8". Older libraries refuse such a file by its version, instead of misreading it.
    public static let int8FormatVersion = 5
    public static let newestFormatVersion = int8FormatVersion

    /// A model from file bytes in memory; `source` names them in errors (a path, or "model bytes").
    /// With a key, the file must carry a signature made with that key.
    public static func decode(_ bytes: UnsafeRawBufferPointer, source: String, key: ModelFileKey? = nil) throws(AutoencoderError) -> Model {
        try decode(.memory(bytes), name: source, key: key)
    }

    public static func decode(_ bytes: [UInt8], source: String, key: ModelFileKey? = nil) throws(AutoencoderError) -> Model {
        try withBytes(of: bytes) { (raw) throws(AutoencoderError) in try decode(raw, source: source, key: key) }
    }

    /// A model from the file at `path` (a regular file; anything else is refused before reading).
    public static func load(path: String, key: ModelFileKey? = nil) throws(AutoencoderError) -> Model {
        let file = try ReadableFile(path: path)
        return try decode(.file(file), name: path, key: key)
    }
}

extension Model {
    /// Saves atomically: a temporary file in the same folder, fsync, rename, fsync of the folder.
    /// A failure leaves any existing file untouched. With a key the file is signed (HMAC-SHA256).
    public func save(to path: String, includeOptimizerState: Bool = true, key: ModelFileKey? = nil) throws(AutoencoderError) {
        try ModelFile.save(self, to: path, includeOptimizerState: includeOptimizerState, key: key)
    }

    /// The model-file bytes, for saving elsewhere (a database, a network).
    public func serialized(includeOptimizerState: Bool = true, key: ModelFileKey? = nil) throws(AutoencoderError) -> [UInt8] {
        try ModelFile.encode(self, includeOptimizerState: includeOptimizerState, key: key)
    }

    public static func load(from path: String, key: ModelFileKey? = nil) throws(AutoencoderError) -> Model {
        try ModelFile.load(path: path, key: key)
    }

    public static func load(bytes: [UInt8], key: ModelFileKey? = nil) throws(AutoencoderError) -> Model {
        try ModelFile.decode(bytes, source: "model bytes", key: key)
    }
}

extension RandomGenerator {
    var hexState: [String] { [state.0, state.1, state.2, state.3].map { String($0, radix: 16) } }
}

// Array's withUnsafe(Mutable)Bytes do not carry typed throws; these pass the error out by value.
func withBytes<T>(of array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(AutoencoderError) -> T) throws(AutoencoderError) -> T {
    let result = array.withUnsafeBytes { raw -> Result<T, AutoencoderError> in
        do throws(AutoencoderError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}

func withMutableBytes<T>(of array: inout [UInt8], _ body: (UnsafeMutableRawBufferPointer) throws(AutoencoderError) -> T) throws(AutoencoderError) -> T {
    let result = array.withUnsafeMutableBytes { raw -> Result<T, AutoencoderError> in
        do throws(AutoencoderError) { return .success(try body(raw)) } catch { return .failure(error) }
    }
    return try result.get()
}
