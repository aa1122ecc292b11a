import XCTest
@testable import Autoencoders

/// Everything the library writes, it loads: a property test over every model kind (dense, conv
/// with pooling links, segmentation with a variational branch, VAE), every optimizer, with and
/// without optimizer state, input scaling and threshold, and odd values in every slot
/// (subnormals, -0, the largest finite floats, the largest epoch count a file can hold).
final class ModelFileRoundTripTests: XCTestCase {
    static let kinds: [(name: String, spec: String)] = [
        ("dense", ModelTests.spec(input: 6, hidden: 4, code: 2)),
        ("conv", ModelBTests.spec),
        ("segmentation", BranchTests.spec()),
        ("vae", ModelCTests.spec),
    ]
    static let optimizers = [#"{"type": "adam", "lr": 0.01}"#, #"{"type": "adamw", "lr": 0.01}"#,
                             #"{"type": "sgd", "lr": 0.01, "momentum": 0.9}"#, #"{"type": "sgd", "lr": 0.01}"#,
                             #"{"type": "rmsprop", "lr": 0.01, "momentum": 0.5}"#, #"{"type": "adagrad", "lr": 0.01}"#]

    /// Finite values of every kind, signed where allowed.
    static let odd: [Float] = [0, -0.0, .leastNonzeroMagnitude, -.leastNonzeroMagnitude, .leastNormalMagnitude,
                               -.leastNormalMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                               1, -1, .ulpOfOne, 0x1p-140, 3.4e38, -1e-38, .pi]
    static let oddNonNegative: [Float] = odd.filter { $0.sign == .plus }

    private func fill(_ pointer: UnsafeMutablePointer<Float>, _ count: Int, from values: [Float], _ random: inout RandomGenerator) {
        for i in 0..<count { pointer[i] = values[Int(random.next() % UInt64(values.count))] }
    }

    private func assertSameBits(_ a: [Float], _ b: [Float], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern), what, file: file, line: line)
    }

    func testEveryKindAndSettingRoundTripsBitForBit() throws {
        var random = RandomGenerator(seed: 2026)
        var cases = 0
        for (kind, baseSpec) in Self.kinds {
            for (index, optimizer) in Self.optimizers.enumerated() {
                // The spec with this optimizer (every kind's spec is a JSON object).
                var object = try XCTUnwrap(try JSON.parse(baseSpec).objectValue)
                object["optimizer"] = try JSON.parse(optimizer)
                let model = try Model(json: JSON.object(object).serialized())
                fill(model.parameters.pointer, model.parameterCount, from: Self.odd, &random)
                let withState = index % 2 == 0 || kind == "dense"
                if withState {
                    let state = try model.trainingOptimizer()
                    state.stepCount = [0, 1, 1 << 40, ModelFile.maxCount][index % 4]
                    for (slot, buffer) in state.state {
                        let squares = ["exp_avg_sq", "square_avg", "sum"].contains(slot)
                        fill(buffer.pointer, buffer.count, from: squares ? Self.oddNonNegative : Self.odd, &random)
                    }
                }
                if index % 3 != 2 {
                    let n = model.inputSize
                    let offset = (0..<n).map { _ in Self.odd[Int(random.next() % UInt64(Self.odd.count))] }
                    // A scale must be non-zero with a finite reciprocal (InputScaling refuses subnormals).
                    let scales = Self.odd.filter { $0 != 0 && (1 / $0).isFinite }
                    let scale = (0..<n).map { _ in scales[Int(random.next() % UInt64(scales.count))] }
                    try model.setInputScaling(InputScaling(offset: offset, scale: scale))
                }
                if index % 2 == 1 {
                    try model.setAnomalyThreshold([Float.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0, 0.5][index % 4])
                }
                model.epochsCompleted = [0, 1, 1 << 53, 12345][index % 4]
                model.random = RandomGenerator(state: (random.next(), random.next(), UInt64.max, 1))

                for includeState in [true, false] {
                    let bytes = try model.serialized(includeOptimizerState: includeState)
                    let loaded = try Model.load(bytes: bytes)
                    let what = "\(kind) \(optimizer) state \(includeState)"
                    XCTAssertEqual(loaded.spec, model.spec, what)
                    assertSameBits(loaded.parameters.array, model.parameters.array, "\(what): parameters")
                    XCTAssertEqual(loaded.inputScaling?.offset.map(\.bitPattern), model.inputScaling?.offset.map(\.bitPattern), what)
                    XCTAssertEqual(loaded.inputScaling?.scale.map(\.bitPattern), model.inputScaling?.scale.map(\.bitPattern), what)
                    XCTAssertEqual(loaded.anomalyThreshold?.bitPattern, model.anomalyThreshold?.bitPattern, "\(what): threshold")
                    XCTAssertEqual(loaded.epochsCompleted, model.epochsCompleted, what)
                    XCTAssertEqual(loaded.random, model.random, what)
                    if includeState && withState {
                        XCTAssertEqual(loaded.optimizer?.stepCount, model.optimizer?.stepCount, what)
                        for (mine, theirs) in zip(model.optimizer!.state, loaded.optimizer!.state) {
                            XCTAssertEqual(mine.name, theirs.name, what)
                            assertSameBits(theirs.buffer.array, mine.buffer.array, "\(what): \(mine.name)")
                        }
                    } else {
                        XCTAssertNil(loaded.optimizer, what)
                    }
                    XCTAssertEqual(try loaded.serialized(includeOptimizerState: includeState), bytes, "\(what): saving again gives the same bytes")
                    cases += 1
                }
            }
        }
        XCTAssertEqual(cases, 4 * 6 * 2)
    }
}
