import XCTest
@testable import Autoencoders

/// A failed call changes nothing (issue 10): a diverging `fit` or trainer step leaves the
/// parameters, the optimizer (its existence, state and step count), the epoch count and the
/// generator bit for bit as they were.
final class FailedCallTests: XCTestCase {
    /// Everything a training call may change, copied.
    struct State: Equatable {
        var parameters: [Float]
        var hasOptimizer: Bool
        var optimizerState: [[Float]]
        var stepCount: Int
        var epochs: Int
        var random: RandomGenerator

        init(_ model: Model) {
            parameters = model.parameters.array
            hasOptimizer = model.optimizer != nil
            optimizerState = model.optimizer?.state.map { $0.buffer.array } ?? []
            stepCount = model.optimizer?.stepCount ?? 0
            epochs = model.epochsCompleted
            random = model.random
        }
    }

    /// SGD whose learning rate warms up towards 1000: a few epochs train, then the loss overflows.
    static let warmingUpSpec = ModelTests.spec(optimizer: #"{"type": "sgd", "lr": 1000}"#,
                                               extra: #""schedule": {"type": "constant", "warmup_epochs": 1000}"#)

    func testADivergingFirstFitLeavesNoOptimizerAndTheGeneratorUnchanged() throws {
        let model = try Model(json: Self.warmingUpSpec)
        let before = State(model)
        var epochsSeen = 0
        let data = try TrainingTests.lowRankData()
        let error = assertThrows(.numeric) { () throws(AutoencoderError) in
            try model.fit(data, options: TrainingTests.options(epochs: 100)) { _ in epochsSeen += 1; return true }
        }
        XCTAssertTrue(error?.message.contains("restored to its state before this call") ?? false, error?.message ?? "")
        XCTAssertGreaterThan(epochsSeen, 1, "some epochs completed before the divergence")
        XCTAssertNil(model.optimizer, "a failed first fit leaves no optimizer state")
        XCTAssertEqual(State(model), before)
    }

    func testADivergingFitAfterTrainingRestoresEverything() throws {
        let model = try Model(json: Self.warmingUpSpec)
        let data = try TrainingTests.lowRankData()
        _ = try model.fit(data, options: TrainingTests.options(epochs: 1))
        let before = State(model)
        XCTAssertTrue(before.hasOptimizer)
        XCTAssertEqual(before.epochs, 1)
        _ = assertThrows(.numeric) { () throws(AutoencoderError) in try model.fit(data, options: TrainingTests.options(epochs: 100)) }
        XCTAssertEqual(State(model), before)
        // And the model trains on from there exactly as if the failed call never happened.
        let twin = try Model(json: Self.warmingUpSpec)
        _ = try twin.fit(data, options: TrainingTests.options(epochs: 1))
        _ = try model.fit(data, options: TrainingTests.options(epochs: 1))
        _ = try twin.fit(data, options: TrainingTests.options(epochs: 1))
        XCTAssertEqual(State(model), State(twin))
    }

    /// A step at learning rate 1e30 computes a finite loss and finite weights, but outputs that
    /// overflow: it is undone and reported, where it used to return normally. The layers are
    /// linear, so the overflow reaches the outputs whatever order the GEMM kernel sums in (a
    /// saturating activation could turn ±inf back into ±1 on one machine and NaN on another).
    func testAStepWhoseOutputsOverflowIsRolledBack() throws {
        let model = try Model(json: ModelTests.spec(activation: "identity", extra: #""noise": {"type": "gaussian", "stddev": 0.1}"#))
        let data = try TrainingTests.lowRankData()
        let trainer = try Trainer(model: model, batchSize: 8)
        for step in 0..<3 { _ = try trainer.step(data.values.withUnsafeBufferPointer { $0.baseAddress! + step * 8 * 12 }, rows: 8) }
        let before = State(model)
        trainer.learningRate = 1e30
        let error = assertThrows(.numeric) { () throws(AutoencoderError) in
            try data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) in try trainer.step(x.baseAddress!, rows: 8) }
        }
        XCTAssertTrue(error?.message.contains("not finite") ?? false, error?.message ?? "")
        XCTAssertEqual(State(model), before, "weights, moments, step count and generator (noise draws) are restored")
        trainer.learningRate = 0.01
        XCTAssertNoThrow(try data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) in try trainer.step(x.baseAddress!, rows: 8) })
        XCTAssertEqual(model.optimizer?.stepCount, 4)
    }

    func testAFailedFirstStepLeavesNoOptimizer() throws {
        let model = try Model(json: ModelTests.spec(activation: "identity", optimizer: #"{"type": "adam", "lr": 1e30}"#))
        let before = State(model)
        let trainer = try Trainer(model: model, batchSize: 8)
        let data = try TrainingTests.lowRankData()
        _ = assertThrows(.numeric) { () throws(AutoencoderError) in
            try data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) in try trainer.step(x.baseAddress!, rows: 8) }
        }
        XCTAssertNil(model.optimizer)
        XCTAssertEqual(State(model), before)
    }

    /// fit with a learning rate that makes the final weights' outputs overflow, in a single step
    /// (one batch, one epoch): the loss it saw was finite, so only the final check catches it.
    func testAFitWhoseLastUpdateOverflowsTheOutputsFails() throws {
        let model = try Model(json: ModelTests.spec(activation: "identity", optimizer: #"{"type": "adam", "lr": 1e30}"#))
        let before = State(model)
        let data = try TrainingTests.lowRankData()
        _ = assertThrows(.numeric) { () throws(AutoencoderError) in
            try model.fit(data, options: TrainingTests.options(epochs: 1, batchSize: 64))
        }
        XCTAssertEqual(State(model), before)
    }

    func testNonFiniteSearch() {
        var values = [Float](repeating: 1, count: 1000)
        XCTAssertNil(values.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, count: 1000) })
        values[737] = .infinity
        XCTAssertEqual(values.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, count: 1000) }, 737)
        values[12] = -.nan
        XCTAssertEqual(values.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, count: 1000) }, 12)
        values = [.greatestFiniteMagnitude, -.greatestFiniteMagnitude]
        XCTAssertNil(values.withUnsafeBufferPointer { firstNonFinite($0.baseAddress!, count: 2) })
    }
}
