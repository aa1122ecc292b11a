import XCTest
@testable import Autoencoders

/// The bounds of Tensor/Size.swift and the caps of the spec's lists (docs/SPEC.md, "Limits"):
/// a spec whose sizes exceed them is a spec error naming the entry, never an allocation that
/// wraps, traps or exhausts memory.
final class SizeLimitTests: XCTestCase {
    /// The 265-byte spec of issue 10 (its report had a 260-byte one): a transposed convolution whose output holds 2^48 floats per
    /// sample. `capacity × outputSize` wrapped to 0 for a batch of 65536, a 1-float buffer was
    /// allocated and the first forward pass wrote past it.
    static let hugeNodeSpec = """
        {"input_shape": [1, 16, 16], "encoder": [{"type": "conv_transpose2d", "filters": 65536, "kernel": 1, \
        "stride": 4096, "output_padding": 4095}, {"type": "conv2d", "filters": 1, "kernel": 1, "stride": 4096}], \
        "decoder": [{"type": "conv2d", "filters": 1, "kernel": 1}]}
        """

    func testANodeAbove2To31FloatsIsASpecErrorNamingTheEntryAndTheSize() {
        let error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: Self.hugeNodeSpec) }
        let message = error?.message ?? ""
        XCTAssertTrue(message.hasPrefix("encoder[0]:"), message)
        XCTAssertTrue(message.contains("281474976710656 floats"), message)   // 2^48
        XCTAssertTrue(message.contains("2147483647"), message)
    }

    func testShapesWhoseProductOverflowsIntAreSpecErrors() {
        // Three axes of about 2^36 each: the product overflows 64 bits.
        let spec = """
            {"input_shape": [1, 16777216, 16777216], "encoder": [{"type": "conv_transpose2d", "filters": 65536, \
            "kernel": 1, "stride": 4096}], "decoder": [{"type": "conv2d", "filters": 1, "kernel": 1, "stride": 4096}]}
            """
        let error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: spec) }
        XCTAssertNotNil(error)
    }

    func testIm2colColumnsAbove2To31FloatsAreASpecError() {
        // 65536 channels × an 8 × 8 kernel × 64 × 64 positions = 2^34 floats of columns per sample.
        let spec = """
            {"input_shape": [65536, 64, 64], "encoder": [{"type": "conv2d", "filters": 1, "kernel": 8, "padding": 4}], \
            "decoder": [{"type": "conv2d", "filters": 65536, "kernel": 1}]}
            """
        let error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: spec) }
        XCTAssertTrue(error?.message.hasPrefix("encoder[0]:") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("columns") ?? false, error?.message ?? "")
    }

    func testMoreThan2To31ParametersIsASpecErrorNamingTheEntry() {
        // 16777216 × 16777216 weights: 2^48 parameters in one dense layer.
        let spec = """
            {"input_size": 16777216, "encoder": [{"type": "dense", "units": 16777216}], "decoder": [{"type": "dense", "units": 16777216}]}
            """
        let error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: spec) }
        XCTAssertTrue(error?.message.hasPrefix("encoder[0]:") ?? false, error?.message ?? "")
        XCTAssertTrue(error?.message.contains("2147483647") ?? false, error?.message ?? "")
    }

    /// A workspace whose nodes are each within bounds but whose total for the batch exceeds the
    /// machine's memory is refused with `.outOfMemory` before anything is allocated.
    func testAWorkspaceBeyondPhysicalMemoryIsOutOfMemory() throws {
        // Nodes of 2^28 floats (1 GiB per sample); a batch of 4096 needs terabytes.
        let spec = """
            {"input_shape": [1, 4, 4], "encoder": [{"type": "upsample_nearest2d", "scale": 4096}, \
            {"type": "avg_pool2d", "kernel": 4096}], "decoder": [{"type": "conv2d", "filters": 1, "kernel": 1}]}
            """
        let model = try Model(json: spec)
        let error = assertThrows(.outOfMemory) { () throws(AutoencoderError) in try Trainer(model: model, batchSize: 4096) }
        XCTAssertTrue(error?.message.contains("workspace for 4096 samples") ?? false, error?.message ?? "")
        XCTAssertNotNil(Workspace.floats(graph: model.graph, capacity: 4096, trainable: true))
        XCTAssertNil(Workspace.floats(graph: model.graph, capacity: 1 << 40, trainable: true), "the total overflows: nil, not a wrapped number")
    }

    func testFloatBufferRefusesMoreThanPhysicalMemory() {
        let error = assertThrows(.outOfMemory) { () throws(AutoencoderError) in try FloatBuffer(count: Size.memoryLimit) }
        XCTAssertTrue(error?.message.contains("memory") ?? false, error?.message ?? "")
        XCTAssertNotNil(assertThrows(.outOfMemory) { () throws(AutoencoderError) in try FloatBuffer(count: Int.max) })
    }

    func testLargeBuffersAreZeroAndUsable() throws {
        let buffer = try FloatBuffer(count: 1 << 20)   // mapped
        XCTAssertTrue(buffer.buffer.allSatisfy { $0 == 0 })
        buffer.pointer[(1 << 20) - 1] = 3
        let copy = try buffer.copy()
        withExtendedLifetime(copy) { XCTAssertEqual(copy.pointer[(1 << 20) - 1], 3) }
    }

    func testSizeArithmeticIsChecked() {
        XCTAssertNil(Size.product(Int.max, 2))
        XCTAssertNil(Size.sum(Int.max, 1))
        XCTAssertNil(Size.elements([65536, 65536, 65536]))                  // 2^48 > 2^31 − 1
        XCTAssertNil(Size.elements([1 << 32, 1 << 32, 1 << 32], limit: .max))   // overflows
        XCTAssertEqual(Size.elements([2, 3, 4]), 24)
        var total = SizeTotal()
        total.add(1 << 40, times: 1 << 30)
        XCTAssertNil(total.floats)
    }

    /// Buffers sized from a caller's count (interpolation steps, generated samples) are checked
    /// before the Swift array is made: a failed array allocation aborts the process.
    func testArraysSizedFromACountAreCheckedFirst() throws {
        let model = try Model(json: ModelTests.spec())
        let ends = [Float](repeating: 0.5, count: 24)
        var output: Float = 0
        let error = assertThrows(.outOfMemory) { () throws(AutoencoderError) in
            try model.interpolate(ends, ends.withUnsafeBufferPointer { $0.baseAddress! + 12 }, steps: Int.max / 2, into: &output)
        }
        XCTAssertTrue(error?.message.hasPrefix("interpolate:") ?? false, error?.message ?? "")
    }

    // MARK: Lists

    func testEveryListIsCapped() {
        func entries(_ count: Int) -> String {
            Array(repeating: #"{"type": "relu"}"#, count: count).joined(separator: ", ")
        }
        let dense = #"[{"type": "dense", "units": 4}]"#
        let tooManyEncoder = #"{"input_size": 4, "encoder": ["# + entries(1001) + #"], "decoder": "# + dense + "}"
        var error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: tooManyEncoder) }
        XCTAssertTrue(error?.message.hasPrefix("encoder: holds 1001 layers; at most 1000") ?? false, error?.message ?? "")

        let branch = #"{"layers": [{"type": "dense", "units": 4}]}"#
        let branches = Array(repeating: branch, count: 17).joined(separator: ", ")
        let tooManyBranches = #"{"input_size": 4, "encoder": "# + dense + #", "decoder": "# + dense + #", "branches": ["# + branches + "]}"
        error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: tooManyBranches) }
        XCTAssertTrue(error?.message.hasPrefix("branches: holds 17 entries; at most 16") ?? false, error?.message ?? "")

        let longBranch = #"{"input_size": 4, "encoder": "# + dense + #", "decoder": "# + dense + #", "branches": [{"layers": ["# + entries(1001) + "]}]}"
        error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: longBranch) }
        XCTAssertTrue(error?.message.hasPrefix("branches[0].layers: holds 1001 entries; at most 1000") ?? false, error?.message ?? "")

        let inputs = Array(repeating: #""input""#, count: 65).joined(separator: ", ")
        let wideConcat = #"{"input_shape": [1, 4], "encoder": [{"type": "concat", "inputs": ["# + inputs + #"]}], "decoder": "# + dense + "}"
        error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: wideConcat) }
        XCTAssertTrue(error?.message.hasPrefix("encoder[0].inputs: holds 65 entries; at most 64") ?? false, error?.message ?? "")

        let longName = String(repeating: "a", count: 201)
        let named = #"{"input_size": 4, "encoder": [{"type": "dense", "units": 4, "name": ""# + longName + #""}], "decoder": "# + dense + "}"
        error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: named) }
        XCTAssertTrue(error?.message.hasPrefix("encoder[0].name:") ?? false, error?.message ?? "")
    }

    /// 100,000 branch layers (1.8 MB of JSON) took 7 s to build, 300,000 took 62 s: now the list is
    /// refused at its cap, and the largest graph the caps allow builds (linearly).
    func testHundredThousandBranchLayersAreRefusedAndTheLargestAllowedGraphBuilds() throws {
        let layer = #"{"type": "relu"}"#
        let huge = #"{"input_size": 4, "encoder": [{"type": "dense", "units": 4}], "decoder": [{"type": "dense", "units": 4}], "#
            + #""branches": [{"layers": ["# + Array(repeating: layer, count: 100_000).joined(separator: ", ") + "]}]}"
        let error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: huge) }
        XCTAssertTrue(error?.message.hasPrefix("branches[0].layers: holds 100000 entries; at most 1000") ?? false, error?.message ?? "")

        // At the caps: 1000 + 1000 entries and 16 branches of 1000: 18,000 nodes.
        let relus = Array(repeating: layer, count: 999).joined(separator: ", ")
        let branch = #"{"layers": [{"type": "dense", "units": 4, "inputs": ["encoder.0"]}, "# + relus + "]}"
        let largest = #"{"input_size": 4, "encoder": [{"type": "dense", "units": 4}, "# + relus + #"], "#
            + #""decoder": [{"type": "dense", "units": 4}, "# + relus + #"], "branches": ["#
            + Array(repeating: branch, count: 16).joined(separator: ", ") + "]}"
        let model = try Model(json: largest)
        XCTAssertEqual(model.graph.nodes.count, 18_000)
    }

    // MARK: Names

    func testNamesWithNULOrControlCharactersAreSpecErrorsAtTheirPath() {
        let dense = #"[{"type": "dense", "units": 4}]"#
        for (bad, escaped) in [("NUL", "\\u0000"), ("tab", "\\t"), ("newline", "\\n"), ("DEL", "\\u007f")] {
            let layer = #"{"input_size": 4, "encoder": [{"type": "dense", "units": 4, "name": "a"# + escaped + #"b"}], "decoder": "# + dense + "}"
            var error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: layer) }
            XCTAssertTrue(error?.message.hasPrefix("encoder[0].name:") ?? false, "\(bad): \(error?.message ?? "")")
            let branch = #"{"input_size": 4, "encoder": "# + dense + #", "decoder": "# + dense + #", "branches": [{"name": "v"# + escaped + #"", "layers": "# + dense + "}]}"
            error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: branch) }
            XCTAssertTrue(error?.message.hasPrefix("branches[0].name:") ?? false, "\(bad): \(error?.message ?? "")")
            let input = #"{"input_size": 4, "encoder": [{"type": "dense", "units": 4, "inputs": ["in"# + escaped + #"put"]}], "decoder": "# + dense + "}"
            error = assertThrows(.invalidSpec) { () throws(AutoencoderError) in try ModelSpec(json: input) }
            XCTAssertTrue(error?.message.hasPrefix("encoder[0].inputs[0]:") ?? false, "\(bad): \(error?.message ?? "")")
        }
        XCTAssertNoThrow(try ModelSpec(json: #"{"input_size": 4, "encoder": [{"type": "dense", "units": 4, "name": "énc-1 ü"}], "decoder": "# + dense + "}"))
    }
}
