import Foundation
import XCTest
@testable import Autoencoders

/// The model file (Sources/Autoencoders/Format/ModelFile.swift): round trips, exact resumption,
/// and every way a damaged file must fail cleanly.
final class ModelFileTests: TemporaryDirectoryTestCase {
    /// A model trained for two epochs, with input scaling and Adam state.
    private func trainedModel(input: Int = 12, hidden: Int = 8, code: Int = 3) throws -> (Model, Tensor) {
        let model = try Model(json: ModelTests.spec(input: input, hidden: hidden, code: code, seed: 11))
        let data = try Tensor(shape: [32, input], values: randomValues(32 * input, 0, 10, seed: 12))
        try data.values.withUnsafeBufferPointer {
            try model.setInputScaling(InputScaling.fit(.standardize, data: $0.baseAddress!, rows: 32, features: input))
        }
        _ = try model.fit(data, options: TrainingTests.options(epochs: 2))
        return (model, data)
    }

    private func assertSameModel(_ loaded: Model, _ original: Model, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(loaded.spec, original.spec, file: file, line: line)
        assertIdentical(loaded.parameters.array, original.parameters.array, "parameters", file: file, line: line)
        XCTAssertEqual(loaded.inputScaling, original.inputScaling, file: file, line: line)
        XCTAssertEqual(loaded.epochsCompleted, original.epochsCompleted, file: file, line: line)
        XCTAssertEqual(loaded.random, original.random, file: file, line: line)
        XCTAssertEqual(loaded.optimizer?.stepCount, original.optimizer?.stepCount, file: file, line: line)
        XCTAssertEqual(loaded.optimizer?.state.map(\.name), original.optimizer?.state.map(\.name), file: file, line: line)
        XCTAssertEqual(loaded.optimizer?.state.map(\.buffer.array), original.optimizer?.state.map(\.buffer.array), file: file, line: line)
    }

    // MARK: Round trips

    func testSaveAndLoadRoundTripAndResumeExactly() throws {
        let (model, data) = try trainedModel()
        let path = directory + "/model.aem"
        try model.save(to: path)
        let loaded = try Model.load(from: path)
        assertSameModel(loaded, model)
        XCTAssertEqual(try loaded.reconstruct(data).values, try model.reconstruct(data).values)

        // Two more epochs on each, and four epochs without interruption, all agree bit for bit.
        let uninterrupted = try Model(json: ModelTests.spec(seed: 11))
        try uninterrupted.setInputScaling(model.inputScaling)
        _ = try uninterrupted.fit(data, options: TrainingTests.options(epochs: 4))
        _ = try model.fit(data, options: TrainingTests.options(epochs: 2))
        _ = try loaded.fit(data, options: TrainingTests.options(epochs: 2))
        assertIdentical(loaded.parameters.array, model.parameters.array, "resumed after loading vs resumed in memory")
        assertIdentical(loaded.parameters.array, uninterrupted.parameters.array, "resumed after loading vs uninterrupted")
    }

    func testLoadFromBytesAndWithoutOptimizerState() throws {
        let (model, _) = try trainedModel()
        let bytes = try model.serialized()
        assertSameModel(try Model.load(bytes: bytes), model)
        XCTAssertEqual(try model.serialized(), bytes, "serialisation is deterministic")

        let lean = try Model.load(bytes: model.serialized(includeOptimizerState: false))
        XCTAssertNil(lean.optimizer)
        assertIdentical(lean.parameters.array, model.parameters.array, "parameters without optimizer state")
        XCTAssertEqual(lean.epochsCompleted, model.epochsCompleted)
        XCTAssertLessThan(try model.serialized(includeOptimizerState: false).count, bytes.count)

        let untrained = try Model(json: ModelTests.spec())
        let fresh = try Model.load(bytes: untrained.serialized())
        XCTAssertNil(fresh.inputScaling)
        assertIdentical(fresh.parameters.array, untrained.parameters.array, "untrained parameters")

        // A tied decoder finds its encoder's weight again after loading.
        let tied = try Model(json: ModelTests.spec(tied: true))
        let x = try ModelTests.data(rows: 4)
        XCTAssertEqual(try Model.load(bytes: tied.serialized()).reconstruct(x).values, try tied.reconstruct(x).values)
    }

    // MARK: Damaged files

    func testEveryTruncationThrowsFormat() throws {
        let (model, _) = try trainedModel(input: 4, hidden: 3, code: 2)
        let bytes = try model.serialized()
        for length in 0..<bytes.count {
            guard let error = assertThrows(.format, { () throws(AutoencoderError) in try Model.load(bytes: Array(bytes[..<length])) }) else {
                return XCTFail("a file truncated to \(length) of \(bytes.count) bytes loaded")
            }
            XCTAssertTrue(error.message.hasPrefix("model bytes"), error.message)
        }
    }

    func testEveryFlippedDataByteIsCaughtByTheChecksum() throws {
        let (model, _) = try trainedModel(input: 4, hidden: 3, code: 2)
        let bytes = try model.serialized()
        let dataStart = try SafetensorsFile(bytes: bytes, source: "model").dataStart
        XCTAssertLessThan(dataStart, bytes.count)
        for index in dataStart..<bytes.count {
            var damaged = bytes
            damaged[index] ^= 0xFF
            let error = assertThrows(.format) { () throws(AutoencoderError) in try Model.load(bytes: damaged) }
            XCTAssertTrue(error?.message.contains("checksum") ?? false, "byte \(index): \(error?.message ?? "")")
            if error?.kind != .format { return }
        }
    }

    /// A flipped bit in the header either makes the file unreadable or changes nothing that matters
    /// (JSON whitespace): it never loads a different model, and it never traps.
    func testFlippedHeaderBitsNeverLoadADifferentModel() throws {
        let (model, _) = try trainedModel(input: 4, hidden: 3, code: 2)
        let bytes = try model.serialized()
        let dataStart = try SafetensorsFile(bytes: bytes, source: "model").dataStart
        for index in 0..<dataStart {
            var damaged = bytes
            damaged[index] ^= 1 << UInt8(index % 8)
            do {
                let loaded = try Model.load(bytes: damaged)
                assertIdentical(loaded.parameters.array, model.parameters.array, "byte \(index)")
                XCTAssertEqual(loaded.spec, model.spec, "byte \(index)")
            } catch {
                XCTAssertEqual(error.kind, .format, "byte \(index): \(error.message)")
            }
        }
    }

    /// Rewrites a model file's metadata (keeping its tensors).
    private func rewritten(_ bytes: [UInt8], _ change: (inout [String: String]) -> Void) throws -> [UInt8] {
        let file = try SafetensorsFile(bytes: bytes, source: "model")
        var writer = SafetensorsWriter()
        for entry in file.entries { try writer.add(entry.name, shape: entry.shape, floats: try file.floats(entry.name)) }
        var metadata = file.metadata
        change(&metadata)
        writer.metadata = metadata
        return writer.encoded()
    }

    func testForeignAndNewerFilesAreRefusedClearly() throws {
        let bytes = try Model(json: ModelTests.spec()).serialized()
        XCTAssertNoThrow(try Model.load(bytes: rewritten(bytes) { _ in }), "the rewrite itself keeps a valid file")
        let foreign = assertThrows(.format) { () throws(AutoencoderError) in try Model.load(bytes: try! rewritten(bytes) { $0["format"] = "pt" }) }
        XCTAssertTrue(foreign?.message.contains("not an autoencoders model file") ?? false, foreign?.message ?? "")
        let plain = assertThrows(.format) { () throws(AutoencoderError) in try Model.load(bytes: try! rewritten(bytes) { $0 = [:] }) }
        XCTAssertTrue(plain?.message.contains("not an autoencoders model file") ?? false, plain?.message ?? "")
        let newer = assertThrows(.format) { () throws(AutoencoderError) in
            try Model.load(bytes: try! rewritten(bytes) { $0["format_version"] = String(ModelFile.newestFormatVersion + 1) })
        }
        XCTAssertTrue(newer?.message.contains("newer") ?? false, newer?.message ?? "")
        let notSafetensors = assertThrows(.format) { () throws(AutoencoderError) in try Model.load(bytes: Array("hello world, not a model".utf8)) }
        XCTAssertNotNil(notSafetensors)
        assertThrows(.io) { () throws(AutoencoderError) in try Model.load(from: directory + "/missing.aem") }
    }

    // MARK: Saving

    func testSaveFailuresThrowIOAndKeepTheExistingFile() throws {
        let (model, _) = try trainedModel()
        assertThrows(.io) { () throws(AutoencoderError) in try model.save(to: directory + "/no/such/folder/model.aem") }

        // A write that fails midway (file size limit) must leave the old file as it was.
        let path = directory + "/model.aem"
        let old = Array("the previous model".utf8)
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data(old)))
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        var limited = saved
        limited.rlim_cur = 64
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        XCTAssertEqual(setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limited), 0)
        let error = assertThrows(.io) { () throws(AutoencoderError) in try model.save(to: path) }
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &saved)
        signal(SIGXFSZ, previousHandler)
        XCTAssertTrue(error?.message.contains(path) ?? false, error?.message ?? "")
        XCTAssertEqual(try FileIO.readAll(path: path), old, "the existing file is intact")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["model.aem"],
                       "no temporary file is left")

        // A folder the process may not write to (meaningless for root, who may write anywhere).
        if getuid() != 0 {
            let locked = directory + "/locked"
            try FileManager.default.createDirectory(atPath: locked, withIntermediateDirectories: false)
            XCTAssertTrue(FileManager.default.createFile(atPath: locked + "/model.aem", contents: Data(old)))
            chmod(locked, 0o555)
            defer { chmod(locked, 0o755) }
            assertThrows(.io) { () throws(AutoencoderError) in try model.save(to: locked + "/model.aem") }
            XCTAssertEqual(try FileIO.readAll(path: locked + "/model.aem"), old)
        }

        // Saving for real then replaces it.
        try model.save(to: path)
        assertIdentical(try Model.load(from: path).parameters.array, model.parameters.array, "saved over the old file")
    }

    // MARK: Interoperability

    /// Python's `safetensors` reads the file: every tensor with its shape and values, and the metadata.
    func testReadableByPythonSafetensors() throws {
        guard run("/usr/bin/env", ["python3", "-c", "import safetensors.numpy"]).status == 0 else {
            throw XCTSkip("python3 with the safetensors package is not available")
        }
        let (model, _) = try trainedModel()
        let path = directory + "/model.aem"
        try model.save(to: path)
        let script = """
            import sys
            from safetensors import safe_open
            from safetensors.numpy import load_file
            tensors = load_file(sys.argv[1])
            with safe_open(sys.argv[1], framework="numpy") as f:
                meta = f.metadata()
            print(meta["format"], meta["format_version"])
            for name in sorted(tensors):
                t = tensors[name]
                print(name, str(t.dtype), ",".join(map(str, t.shape)), repr(float(t.astype("float64").sum())))
            """
        let result = run("/usr/bin/env", ["python3", "-c", script, path])
        XCTAssertEqual(result.status, 0, result.output)
        var lines = result.output.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "autoencoders \(ModelFile.formatVersion)")
        lines.removeFirst()
        var expected: [String: (shape: [Int], sum: Double)] = [:]
        for entry in model.parameterEntries {
            expected[entry.name] = (entry.shape, try model.parameter(named: entry.name).values.reduce(0.0) { $0 + Double($1) })
        }
        expected["input_scaling.offset"] = ([12], model.inputScaling!.offset.reduce(0.0) { $0 + Double($1) })
        expected["input_scaling.scale"] = ([12], model.inputScaling!.scale.reduce(0.0) { $0 + Double($1) })
        for (name, buffer) in model.optimizer!.state {
            expected["optimizer.\(name)"] = ([buffer.count], buffer.array.reduce(0.0) { $0 + Double($1) })
        }
        XCTAssertEqual(lines.count, expected.count, result.output)
        for line in lines {
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count == 4, let (shape, sum) = expected[fields[0]] else { XCTFail("unexpected line \(line)"); continue }
            XCTAssertEqual(fields[1], "float32", line)
            XCTAssertEqual(fields[2], shape.map(String.init).joined(separator: ","), line)
            XCTAssertEqual(Double(fields[3]) ?? .nan, sum, accuracy: 1e-9 * max(1, abs(sum)), line)
        }
    }

    private func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "\(error)") }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
