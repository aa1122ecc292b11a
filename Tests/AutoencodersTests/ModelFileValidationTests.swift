import Foundation
import XCTest
@testable import Autoencoders

/// What a model file must prove before it becomes a model (ModelFileReader.swift): its checksum
/// covers the tensor table and the metadata; files of format 1 still load by their own rule; the
/// spec and the tensor table agree before anything is built; optimizer state, thresholds and
/// counts are validated like weights; a signed file loads only with its key.
///
/// Most cases rewrite a real file and give it a *valid* checksum (`reencoded`), as an attacker
/// could: each must then be refused by validation, not by the checksum.
final class ModelFileValidationTests: XCTestCase {
    static let fixtures = Fixtures.repository + "/Tests/Fixtures/modelfile"

    private func trained(optimizer: String = #"{"type": "adam", "lr": 0.01}"#) throws -> Model {
        let model = try Model(json: ModelTests.spec(input: 6, hidden: 4, code: 2, optimizer: optimizer))
        let data = try Tensor(shape: [16, 6], values: randomValues(96, 0, 1, seed: 3))
        _ = try model.fit(data, options: TrainingTests.options(epochs: 1))
        return model
    }

    /// The file's tensors (in data order, with their values) and metadata, changed by `change`,
    /// written back with a checksum (and, with a key, a signature) that matches the result.
    private func reencoded(_ bytes: [UInt8], version: Int = ModelFile.formatVersion, key: ModelFileKey? = nil,
                           _ change: (inout [(name: String, shape: [Int], values: [Float])], inout [String: String]) -> Void) throws -> [UInt8] {
        let file = try SafetensorsFile(bytes: bytes, source: "model")
        var tensors = try file.entries.map { (name: $0.name, shape: $0.shape, values: try file.floats($0.name)) }
        var metadata = file.metadata
        metadata["checksum"] = nil
        metadata["signature"] = nil
        change(&tensors, &metadata)
        var writer = SafetensorsWriter()
        var table: [(name: String, dtype: SafetensorsDType, shape: [Int], range: Range<Int>)] = []
        var digest = ModelFileDigest(version: version, key: key)
        var offset = 0
        for tensor in tensors {
            try writer.add(tensor.name, shape: tensor.shape, floats: tensor.values)
            tensor.values.withUnsafeBytes { digest.data($0) }
            table.append((tensor.name, .f32, tensor.shape, offset..<(offset + 4 * tensor.values.count)))
            offset += 4 * tensor.values.count
        }
        let (checksum, signature) = digest.finish(tensors: table, metadata: metadata)
        metadata["checksum"] = checksum
        metadata["signature"] = signature
        writer.metadata = metadata
        return writer.encoded()
    }

    private func training(_ bytes: [UInt8]) throws -> JSONObject {
        try XCTUnwrap(try JSON.parse(try SafetensorsFile(bytes: bytes, source: "m").metadata["training"]!).objectValue)
    }

    @discardableResult
    private func refused(_ bytes: [UInt8], _ fragment: String, key: ModelFileKey? = nil,
                         file: StaticString = #filePath, line: UInt = #line) -> AutoencoderError? {
        let error = assertThrows(.format, { () throws(AutoencoderError) in try Model.load(bytes: bytes, key: key) }, file: file, line: line)
        XCTAssertTrue(error?.message.contains(fragment) ?? false, "\(error?.message ?? "no error"): lacks '\(fragment)'", file: file, line: line)
        return error
    }

    // MARK: Checksum

    func testTheRewriteHelperKeepsAValidFile() throws {
        let bytes = try trained().serialized()
        XCTAssertEqual(try reencoded(bytes) { _, _ in }, bytes, "the helper reproduces the writer byte for byte")
    }

    /// Two tensors of one shape whose offsets are swapped in the header: format 1's checksum did
    /// not see it (the data section is unchanged); format 2's covers the table.
    func testSwappingTwoTensorsOffsetsIsDetected() throws {
        let model = try trained()
        let bytes = try model.serialized()
        let file = try SafetensorsFile(bytes: bytes, source: "m")
        let a = try XCTUnwrap(file.entry(named: "encoder.0.bias")), b = try XCTUnwrap(file.entry(named: "decoder.0.bias"))
        XCTAssertEqual(a.shape, b.shape)
        let table = file.entries.map { entry -> (name: String, dtype: SafetensorsDType, shape: [Int], range: Range<Int>) in
            var range = entry.byteRange
            if entry.name == a.name { range = b.byteRange } else if entry.name == b.name { range = a.byteRange }
            return (entry.name, entry.dtype, entry.shape, (range.lowerBound - file.dataStart)..<(range.upperBound - file.dataStart))
        }
        var swapped = SafetensorsWriter.header(metadata: file.metadata, tensors: table)
        XCTAssertEqual(swapped.count, file.dataStart, "same header length")
        swapped += bytes[file.dataStart...]
        refused(swapped, "checksum mismatch")
    }

    func testEditedMetadataIsDetected() throws {
        let bytes = try trained().serialized()
        let file = try SafetensorsFile(bytes: bytes, source: "m")
        var metadata = file.metadata
        metadata["library_version"] = "9.9.9"
        let table = file.entries.map { ($0.name, $0.dtype, $0.shape, ($0.byteRange.lowerBound - file.dataStart)..<($0.byteRange.upperBound - file.dataStart)) }
        let edited = SafetensorsWriter.header(metadata: metadata, tensors: table) + bytes[file.dataStart...]
        refused(edited, "checksum mismatch")
    }

    // MARK: Format 1

    /// A file written by the library before format 2 (Tests/Fixtures/modelfile/README.md) loads,
    /// reconstructs as it did, and is saved again as format 2.
    func testVersion1FilesStillLoad() throws {
        let path = Self.fixtures + "/v1_dense_adam.aem"
        let model = try Model.load(from: path)
        let npy = try NPY.read(path: Self.fixtures + "/v1_dense_adam_x.npy")
        let x = try Tensor(shape: npy.shape, values: npy.values)
        let expected = try NPY.read(path: Self.fixtures + "/v1_dense_adam_reconstruction.npy")
        assertIdentical(try model.reconstruct(x).values, expected.values, "reconstruction as the old library made it")
        XCTAssertEqual(model.epochsCompleted, 3)
        XCTAssertEqual(model.optimizerStepCount, 12)
        XCTAssertNotNil(model.anomalyThreshold)
        XCTAssertNotNil(model.inputScaling)
        let resaved = try model.serialized()
        XCTAssertEqual(try SafetensorsFile(bytes: resaved, source: "m").metadata["format_version"], "2")
        assertIdentical(try Model.load(bytes: resaved).parameters.array, model.parameters.array, "re-saved as format 2")

        // Its own checksum rule still guards it.
        var damaged = try FileIO.readAll(path: path)
        damaged[damaged.count - 1] ^= 0x40
        refused(damaged, "checksum mismatch")
        // And a key cannot verify it: format 1 has no signature.
        refused(try FileIO.readAll(path: path), "format 1", key: try ModelFileKey([1, 2, 3]))
    }

    // MARK: Spec against table, before building

    /// The stored spec asks for 268 million parameters (1 GiB, twice with the gradients) but the file holds none: refused
    /// from the header alone (the old loader built and initialised the model first).
    func testASpecTheTensorsDoNotMatchIsRefusedBeforeBuilding() throws {
        let small = try trained().serialized()
        let huge = #"{"input_size": 16384, "encoder": [{"type": "dense", "units": 8192}], "decoder": [{"type": "dense", "units": 16384}]}"#
        let crafted = try reencoded(small) { tensors, metadata in
            tensors = []
            metadata["spec"] = huge
            metadata["training"] = nil
        }
        XCTAssertLessThan(crafted.count, 1024)
        refused(crafted, "the tensor encoder.0.weight is missing")
        // A table whose shape differs from the spec's.
        let reshaped = try reencoded(small) { tensors, _ in
            let i = tensors.firstIndex { $0.name == "encoder.0.weight" }!
            tensors[i].shape = [tensors[i].values.count]
        }
        refused(reshaped, "the spec needs F32 [4, 6]")
        let extra = try reencoded(small) { tensors, _ in tensors.append((name: "smuggled", shape: [1], values: [0])) }
        refused(extra, "unexpected tensor smuggled")
    }

    // MARK: Values

    func testNonFiniteOrNegativeOptimizerStateIsRefused() throws {
        let bytes = try trained().serialized()
        for (slot, value, fragment) in [("optimizer.exp_avg", Float.nan, "must be finite"),
                                        ("optimizer.exp_avg", -.infinity, "must be finite"),
                                        ("optimizer.exp_avg_sq", -1e-30, "non-negative"),
                                        ("optimizer.exp_avg_sq", .nan, "non-negative")] {
            let bad = try reencoded(bytes) { tensors, _ in
                let i = tensors.firstIndex { $0.name == slot }!
                tensors[i].values[2] = value
            }
            refused(bad, "\(slot)[2] is \(value)")
            refused(bad, fragment)
        }
        // RMSprop and Adagrad keep squares too.
        for (optimizer, slot) in [(#"{"type": "rmsprop", "lr": 0.01}"#, "optimizer.square_avg"), (#"{"type": "adagrad", "lr": 0.01}"#, "optimizer.sum")] {
            let other = try trained(optimizer: optimizer).serialized()
            let bad = try reencoded(other) { tensors, _ in tensors[tensors.firstIndex { $0.name == slot }!].values[0] = -1 }
            refused(bad, "non-negative")
        }
        let weights = try reencoded(bytes) { tensors, _ in tensors[0].values[0] = .infinity }
        refused(weights, "parameters must be finite")
    }

    func testThresholdsCountsAndRandomStateAreValidated() throws {
        let model = try trained()
        try model.setAnomalyThreshold(1.5)
        let bytes = try model.serialized()
        func withTraining(_ change: (inout JSONObject) -> Void) throws -> [UInt8] {
            var object = try training(bytes)
            change(&object)
            return try reencoded(bytes) { _, metadata in metadata["training"] = JSON.object(object).serialized() }
        }
        // 1e300 is a finite double but not a float: it used to load as infinity and save as null.
        refused(try withTraining { $0["anomaly_threshold"] = .number(1e300) }, "fits a 32-bit float")
        refused(try withTraining { $0["anomaly_threshold"] = .null }, "anomaly_threshold")
        refused(try withTraining { $0["anomaly_threshold"] = .number(-1) }, "anomaly_threshold")
        refused(try withTraining { $0["epochs_completed"] = .number(-1) }, "epochs_completed")
        refused(try withTraining { $0["epochs_completed"] = .number(1.5) }, "epochs_completed")
        refused(try withTraining { $0["epochs_completed"] = .number(0x1p60) }, "epochs_completed")
        refused(try withTraining { $0["optimizer_step"] = .number(0x1p54) }, "optimizer_step")
        refused(try withTraining { $0["optimizer_step"] = .string("12") }, "optimizer_step")
        refused(try withTraining { $0["random_state"] = .array([.string("0"), .string("0"), .string("0"), .string("0")]) }, "random_state")
        refused(try withTraining { $0["random_state"] = .array([.string("1"), .string("zz"), .string("1"), .string("1")]) }, "random_state")
        refused(try withTraining { $0["optimizer"] = .string("sgd") }, "optimizer state is for sgd")
        // The largest accepted values load.
        let largest = try withTraining {
            $0["anomaly_threshold"] = .number(Double(Float.greatestFiniteMagnitude))
            $0["epochs_completed"] = .number(0x1p53)
        }
        let loaded = try Model.load(bytes: largest)
        XCTAssertEqual(loaded.anomalyThreshold, .greatestFiniteMagnitude)
        XCTAssertEqual(loaded.epochsCompleted, 1 << 53)
    }

    // MARK: Signed files

    func testSignedFilesLoadOnlyWithTheirKey() throws {
        let model = try trained()
        let key = try ModelFileKey(Array("a secret of the model's owner".utf8))
        let signed = try model.serialized(key: key)
        let metadata = try SafetensorsFile(bytes: signed, source: "m").metadata
        XCTAssertTrue(metadata["signature"]?.hasPrefix("hmac-sha256:") ?? false)
        assertIdentical(try Model.load(bytes: signed, key: key).parameters.array, model.parameters.array, "verified")
        assertIdentical(try Model.load(bytes: signed).parameters.array, model.parameters.array, "a signed file is a model file")

        refused(signed, "signature mismatch", key: try ModelFileKey(Array("another key".utf8)))
        // Changed by someone who recomputed the checksum but has no key.
        let forged = try reencoded(signed) { tensors, _ in tensors[0].values[0] += 1 }
        XCTAssertNoThrow(try Model.load(bytes: forged), "the CRC alone accepts the forgery")
        refused(forged, "not signed", key: key)
        // Re-signed with another key, or with the signature of the original kept.
        let resigned = try reencoded(signed, key: try ModelFileKey([9])) { tensors, _ in tensors[0].values[0] += 1 }
        refused(resigned, "signature mismatch", key: key)
        let keptSignature = try reencoded(signed) { tensors, metadata in
            tensors[0].values[0] += 1
            metadata["signature"] = nil
        }
        refused(keptSignature, "not signed", key: key)
        refused(try model.serialized(), "not signed", key: key)
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try ModelFileKey([]) }
    }

    func testSignedFilesOnDisk() throws {
        let directory = NSTemporaryDirectory() + "ModelFileValidation-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let model = try trained()
        let key = try ModelFileKey([UInt8](repeating: 7, count: 32))
        try model.save(to: directory + "/m.aem", key: key)
        assertIdentical(try Model.load(from: directory + "/m.aem", key: key).parameters.array, model.parameters.array, "verified from disk")
        let error = assertThrows(.format) { () throws(AutoencoderError) in try Model.load(from: directory + "/m.aem", key: try ModelFileKey([7])) }
        XCTAssertTrue(error?.message.contains("signature mismatch") ?? false, error?.message ?? "")
    }
    /// The quantiser section (format 3, Codec/CodeQuantizer.swift): its metadata, shapes and values
    /// are checked before the model is returned, and it needs format 3.
    func testQuantizerSectionIsValidated() throws {
        let model = try trained()
        try model.fitCodeQuantizer(randomValues(96, 0, 1, seed: 4), rows: 16, bits: 5)
        let bytes = try model.serialized()
        let v3 = ModelFile.quantizerFormatVersion
        XCTAssertEqual(try Model.load(bytes: try reencoded(bytes, version: v3) { _, _ in }).codeQuantizer, model.codeQuantizer)
        refused(try reencoded(bytes, version: v3) { _, meta in meta["format_version"] = "2" }, "quantizers need format 3")
        refused(try reencoded(bytes, version: v3) { _, meta in meta["quantizer"] = #"{"bits": 9, "frequency_bits": 15, "coder": "range"}"# },
                "quantizer metadata")
        refused(try reencoded(bytes, version: v3) { _, meta in meta["quantizer"] = #"{"bits": 6, "frequency_bits": 15, "coder": "range"}"# },
                "quantizer.frequencies")
        refused(try reencoded(bytes, version: v3) { _, meta in meta["quantizer"] = nil }, "unexpected tensor quantizer")
        func changed(_ name: String, _ index: Int, _ value: Float) throws -> [UInt8] {
            try reencoded(bytes, version: v3) { tensors, _ in
                let t = tensors.firstIndex { $0.name == name }!
                tensors[t].values[index] = value
            }
        }
        refused(try changed("quantizer.scale", 1, 0), "scale[1] is 0.0")
        refused(try changed("quantizer.scale", 0, .nan), "scale[0]")
        refused(try changed("quantizer.zero_point", 1, 2.5), "zero_point[1]")
        refused(try changed("quantizer.zero_point", 0, 32), "zero_point[0]")
        refused(try changed("quantizer.frequencies", 3, 0), "frequencies[0, 3]")
        refused(try changed("quantizer.frequencies", 40, 2000), "sum to")
    }
}
