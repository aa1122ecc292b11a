/// The int8 section of a model file (format 5, docs/FILE_FORMAT.md "Format 5: int8 models"):
///
///     metadata "int8"           {"activations": "dynamic" | "calibrated", "layers": [node names],
///                                "fallback": ["name (kind)", ...]}
///     "<layer>.weight"          I8, the spec's weight shape: q (in −127...127)
///     "<layer>.weight_scale"    F32 [rows]: s, one per output row (finite, > 0)
///     "<layer>.input_range"     F32 [2]: the calibrated input scale and zero point (calibrated only)
///
/// Every other parameter (biases, the fallback layers' weights) stays F32 as in any model file.
/// On load the int8 weights are attached to their layers and their dequantised values s · q
/// written to the float parameters, so the float parameter table reads what the int8 path uses.
struct Int8FileSection {
    struct Layer {
        let name: String
        let shape: [Int]
        let calibrated: Bool
        var count: Int { shape.reduce(1, *) }
    }

    /// One layer's tensors as read from the file.
    final class Tensors {
        let layer: Layer
        let values: UnsafeMutablePointer<Int8>
        let scales: FloatBuffer
        let range: FloatBuffer

        init(_ layer: Layer) throws(AutoencoderError) {
            self.layer = layer
            scales = try FloatBuffer(count: layer.shape[0])
            range = try FloatBuffer(count: 2)
            values = .allocate(capacity: max(layer.count, 1))
            values.initialize(repeating: 0, count: max(layer.count, 1))
        }

        deinit { values.deallocate() }
    }

    let calibrated: Bool
    let layers: [String]

    /// The section of `metadata`, or nil when the file has none.
    init?(_ metadata: [String: String], version: Int, name: String) throws(AutoencoderError) {
        guard let text = metadata["int8"] else { return nil }
        func fail(_ message: String) -> AutoencoderError { .format("\(name): \(message)") }
        guard version >= ModelFile.int8FormatVersion else {
            throw fail("the file has an int8 section but is of model-file format \(version); int8 models need format \(ModelFile.int8FormatVersion)")
        }
        guard let json = try? JSON.parse(text), let object = json.objectValue,
              let activations = object["activations"]?.stringValue, ["dynamic", "calibrated"].contains(activations),
              let list = object["layers"]?.arrayValue, !list.isEmpty else {
            throw fail("the int8 metadata must be {\"activations\": \"dynamic\" or \"calibrated\", \"layers\": [at least one name], ...}, got \(text)")
        }
        var names: [String] = []
        for item in list {
            guard let layer = item.stringValue else { throw fail("the int8 metadata's layers must be names, got \(item.serialized())") }
            names.append(layer)
        }
        calibrated = activations == "calibrated"
        layers = names
    }

    /// Attaches each layer's int8 weights to `model` (built from the file's spec) and marks it int8.
    func attach(_ tensors: [Tensors], to model: Model, name: String) throws(AutoencoderError) {
        func fail(_ message: String) -> AutoencoderError { .format("\(name): \(message)") }
        var quantized: [Int8State.QuantizedLayer] = []
        for stored in tensors {
            guard let index = model.graph.nodes.firstIndex(where: { $0.name == stored.layer.name }),
                  case .quantizable(let weight, let rows, let columns, let attach) = model.graph.nodes[index].int8Candidate,
                  rows == stored.layer.shape[0], rows * columns == stored.layer.count else {
                throw fail("layer \(stored.layer.name) is listed as int8 but has no int8 path in this model")
            }
            let weights = try Int8Weights(values: stored.values, scales: stored.scales.pointer, rows: rows, columns: columns,
                                          source: "\(name): \(stored.layer.name).weight")
            if stored.layer.calibrated {
                let zero = stored.range.pointer[1]
                guard let zeroPoint = Int32(exactly: zero) else {
                    throw fail("\(stored.layer.name).input_range's zero point is \(zero), not an integer in 0...255")
                }
                do {
                    weights.calibrated = try Int8ActivationRange(scale: stored.range.pointer[0], zeroPoint: zeroPoint)
                } catch {
                    throw fail("\(stored.layer.name).input_range: \(error.message)")
                }
            }
            weights.dequantize(into: weight)
            attach(weights)
            quantized.append(.init(node: index, name: stored.layer.name, weights: weights))
        }
        model.int8 = Int8State(layers: quantized, fallback: Int8State.floatLayers(of: model.graph, quantized: Set(quantized.map(\.node))))
    }
}
