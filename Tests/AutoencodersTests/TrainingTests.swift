import Dispatch
import XCTest
@testable import Autoencoders

/// Model.fit and Trainer (Sources/Autoencoders/Training/): learning, validation, early stopping,
/// the progress callback, schedules, divergence, bad data and resumable determinism.
final class TrainingTests: XCTestCase {
    /// 64 samples of 12 features on a 2-dimensional subspace (plus a little noise), values in about [−1, 1].
    static func lowRankData(rows: Int = 64, seed: UInt64 = 3) throws -> Tensor {
        let a = randomValues(rows * 2, -1, 1, seed: seed), b = randomValues(2 * 12, -0.7, 0.7, seed: seed + 1)
        let noise = randomValues(rows * 12, -0.01, 0.01, seed: seed + 2)
        let values = (0..<(rows * 12)).map { i -> Float in
            let r = i / 12, j = i % 12
            return a[r * 2] * b[j] + a[r * 2 + 1] * b[12 + j] + noise[i]
        }
        return try Tensor(shape: [rows, 12], values: values)
    }

    static func options(epochs: Int, batchSize: Int = 8) -> TrainingOptions {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = batchSize
        return options
    }

    func testFitReducesTheLossOnLowRankData() throws {
        let model = try Model(json: ModelTests.spec(seed: 2))
        let data = try Self.lowRankData()
        let before = try Trainer(model: model, batchSize: 64).evaluate(data.values, rows: 64)
        let report = try model.fit(data, options: Self.options(epochs: 40))
        XCTAssertEqual(report.epochsRun, 40)
        XCTAssertEqual(report.stopReason, .completed)
        XCTAssertEqual(report.trainLoss.count, 40)
        XCTAssertTrue(report.validationLoss.isEmpty)
        XCTAssertEqual(model.epochsCompleted, 40)
        let after = try Trainer(model: model, batchSize: 64).evaluate(data.values, rows: 64)
        XCTAssertLessThan(after, 0.1 * before, "loss \(before) → \(after)")
        XCTAssertLessThan(report.trainLoss.last!, 0.2 * report.trainLoss.first!)
    }

    /// The whole objective (loss, fused σ + BCE, weight decay) against finite differences of
    /// `Trainer.evaluate`, over every parameter of the model.
    func testObjectiveGradientMatchesFiniteDifferences() throws {
        let x = randomValues(6 * 12, 0.05, 0.95, seed: 70)
        let cases: [(loss: String, output: String, extra: String, fused: Bool)] = [
            ("mse", "identity", "", false),
            ("huber", "identity", "", false),
            ("smooth_l1", "tanh", "", false),
            ("bce", "sigmoid", "", true),
            ("bce_with_logits", "identity", "", false),
            ("mse", "sigmoid", #""regularization": {"weight_decay": {"lambda": 0.01}}"#, false),
            ("mse", "identity", #""regularization": {"weight_decay": {"lambda": 0.001, "p": 1, "include_biases": true}}"#, false),
        ]
        for (loss, output, extra, fused) in cases {
            let name = "\(loss), \(output) output\(extra.isEmpty ? "" : ", weight decay")"
            let model = try Model(json: ModelTests.spec(outputActivation: output, loss: loss, extra: extra))
            let trainer = try Trainer(model: model, batchSize: 6)
            XCTAssertEqual(trainer.objective.fusedSigmoidBCE, fused, name)
            let objective = trainer.computeGradients(x, rows: 6)
            XCTAssertEqual(objective, try trainer.evaluate(x, rows: 6), accuracy: 1e-6 * objective, name)
            let p = model.parameters.array
            GradientCheck.check(name, at: p, gradient: model.gradients.array, step: 1e-3) { values in
                model.parameters.set(values)
                defer { model.parameters.set(p) }
                return (try? trainer.evaluate(x, rows: 6)) ?? .nan
            }
        }
    }

    func testValidationSplitAndExplicitValidationData() throws {
        let data = try Self.lowRankData()
        var options = Self.options(epochs: 3)
        options.validationSplit = 0.25
        let split = try Model(json: ModelTests.spec())
        var batchesSeen: [Int] = []
        let report = try split.fit(data, options: options) { progress in
            batchesSeen.append(progress.batches)
            return true
        }
        XCTAssertEqual(report.validationLoss.count, 3)
        XCTAssertEqual(batchesSeen, [6, 6, 6], "48 training rows in batches of 8")
        // The held-out rows are the last 16, evaluated after the last epoch.
        let held = Array(data.values[(48 * 12)...])
        XCTAssertEqual(report.validationLoss.last!, try Trainer(model: split, batchSize: 8).evaluate(held, rows: 16),
                       accuracy: 1e-6 * report.validationLoss.last!)

        let explicit = try Model(json: ModelTests.spec())
        let validation = try Self.lowRankData(rows: 10, seed: 50)
        let explicitReport = try explicit.fit(data, validation: validation, options: Self.options(epochs: 3))
        XCTAssertEqual(explicitReport.validationLoss.count, 3)
        XCTAssertEqual(explicitReport.validationLoss.last!, try Trainer(model: explicit, batchSize: 8).evaluate(validation.values, rows: 10),
                       accuracy: 1e-6 * explicitReport.validationLoss.last!)
        XCTAssertEqual(explicitReport.bestLoss, explicitReport.validationLoss.min()!, "the validation loss is monitored")
    }

    /// The training data are non-negative and the output passes a ReLU, while the validation data are
    /// their negatives: the better the model fits the training data, the worse it does on validation.
    func testEarlyStoppingRestoresTheBestWeights() throws {
        let spec = ModelTests.spec(activation: "relu", outputActivation: "relu", seed: 4)
        let data = try Self.lowRankData().values.map(abs)
        let validation = data.map { -$0 }
        for restore in [true, false] {
            let model = try Model(json: spec)
            var options = Self.options(epochs: 50)
            options.patience = 3
            options.restoreBestWeights = restore
            var captured: [[Float]] = []
            let report = try model.fit(Tensor(shape: [64, 12], values: data), validation: Tensor(shape: [64, 12], values: validation),
                                       options: options) { _ in
                captured.append(model.parameters.array)
                return true
            }
            XCTAssertEqual(report.stopReason, .earlyStopping)
            XCTAssertEqual(report.epochsRun, report.bestEpoch + 1 + options.patience)
            XCTAssertLessThan(report.epochsRun, 50)
            XCTAssertEqual(captured.count, report.epochsRun)
            XCTAssertTrue(report.validationLoss[(report.bestEpoch + 1)...].allSatisfy { $0 >= report.bestLoss })
            XCTAssertNotEqual(captured[report.bestEpoch], captured.last!, "training went on after the best epoch")
            assertIdentical(model.parameters.array, restore ? captured[report.bestEpoch] : captured.last!, "parameters, restore \(restore)")
        }
    }

    func testCallbackCanStopTraining() throws {
        let model = try Model(json: ModelTests.spec())
        var epochs: [Int] = []
        let report = try model.fit(Self.lowRankData(), options: Self.options(epochs: 10)) { progress in
            XCTAssertTrue(progress.isEpochEnd)
            XCTAssertEqual(progress.epochs, 10)
            epochs.append(progress.epoch)
            return progress.epoch < 2
        }
        XCTAssertEqual(report.stopReason, .callback)
        XCTAssertEqual(report.epochsRun, 3)
        XCTAssertEqual(epochs, [0, 1, 2])
        XCTAssertEqual(model.epochsCompleted, 3)

        // Stopping within an epoch when batches are reported: that epoch does not count as
        // completed, and no report follows the one that asked to stop.
        var options = Self.options(epochs: 10)
        options.reportBatches = true
        var reports = 0
        let stoppedModel = try Model(json: ModelTests.spec())
        let stopped = try stoppedModel.fit(Self.lowRankData(), options: options) { progress in
            reports += 1
            XCTAssertFalse(progress.isEpochEnd)
            return reports < 3
        }
        XCTAssertEqual(reports, 3)
        XCTAssertEqual(stopped.stopReason, .callback)
        XCTAssertEqual(stopped.epochsRun, 0)
        XCTAssertEqual(stoppedModel.epochsCompleted, 0)
    }

    /// The schedule sets the rate at the start of every epoch, counting epochs across fits.
    func testScheduleIsAppliedPerEpoch() throws {
        let spec = ModelTests.spec(optimizer: #"{"type": "sgd", "lr": 0.1}"#,
                                   extra: #""schedule": {"type": "step", "step_size": 2, "gamma": 0.5}"#)
        let model = try Model(json: spec)
        var rates: [Float] = []
        _ = try model.fit(Self.lowRankData(), options: Self.options(epochs: 3)) { rates.append($0.learningRate); return true }
        _ = try model.fit(Self.lowRankData(), options: Self.options(epochs: 3)) { rates.append($0.learningRate); return true }
        assertClose(rates, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025], rtol: 1e-6, atol: 0, "learning rate per epoch")
    }

    /// An update can overflow the weights to ∞ while the loss it started from was finite; the epoch
    /// that did so must not count as a good one to go back to.
    func testDivergenceNeverLeavesNonFiniteWeights() throws {
        let model = try Model(json: ModelTests.spec(optimizer: #"{"type": "sgd", "lr": 3e38}"#))
        let initial = model.parameters.array
        let data = try Tensor(shape: [64, 12], values: Self.lowRankData().values.map { $0 * 100 })
        let error = assertThrows(.numeric) { () throws(AutoencoderError) in try model.fit(data, options: Self.options(epochs: 5, batchSize: 64)) }
        XCTAssertTrue(error?.message.contains("diverged") ?? false, error?.message ?? "")
        XCTAssertEqual(model.parameters.array.filter { !$0.isFinite }.count, 0, "non-finite weights were kept")
        assertIdentical(model.parameters.array, initial, "no epoch ended with usable weights: the initial ones")
        XCTAssertEqual(model.epochsCompleted, 0)
        XCTAssertNoThrow(try Model.load(bytes: model.serialized()), "the model can still be saved and loaded")
    }

    func testNaNInDataIsRejectedNamingTheSample() throws {
        let model = try Model(json: ModelTests.spec())
        var values = try Self.lowRankData().values
        values[5 * 12 + 3] = .nan
        let before = model.parameters.array
        let error = assertThrows(.numeric) { () throws(AutoencoderError) in try model.fit(Tensor(shape: [64, 12], values: values)) }
        XCTAssertTrue(error?.message.contains("sample 5") ?? false, error?.message ?? "")
        values[5 * 12 + 3] = .infinity
        let data = try Self.lowRankData()
        let validationError = assertThrows(.numeric) { () throws(AutoencoderError) in
            try model.fit(data, validation: Tensor(shape: [64, 12], values: values))
        }
        XCTAssertTrue(validationError?.message.contains("sample 5") ?? false, validationError?.message ?? "")
        assertIdentical(model.parameters.array, before, "nothing was trained")
    }

    func testInvalidOptionsAreRejected() throws {
        let model = try Model(json: ModelTests.spec())
        let data = try Self.lowRankData()
        var options = TrainingOptions()
        options.batchSize = 0
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.fit(data, options: options) }
        options = TrainingOptions()
        options.validationSplit = 1
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.fit(data, options: options) }
        options.validationSplit = 0.001
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.fit(data, options: options) }
        assertThrows(.shapeMismatch) { () throws(AutoencoderError) in try model.fit(Tensor(shape: [4, 3], values: [Float](repeating: 0, count: 12))) }
    }

    func testTrainerStepChecksItsArguments() throws {
        let model = try Model(json: ModelTests.spec())
        let trainer = try Trainer(model: model, batchSize: 4)
        let x = try Self.lowRankData(rows: 5).values
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try trainer.step(x, rows: 5) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try trainer.step(x, rows: 0) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Trainer(model: model, batchSize: 0) }
        var bad = x
        bad[13] = .nan
        assertThrows(.numeric) { () throws(AutoencoderError) in try trainer.step(bad, rows: 4) }
        XCTAssertEqual(model.optimizer?.stepCount ?? 0, 0)
        XCTAssertTrue(try trainer.step(x, rows: 4).isFinite)
        XCTAssertEqual(model.optimizer?.stepCount, 1)
    }

    /// The progress callback may run inference on the model being trained, and other threads may
    /// run inference meanwhile: no deadlock, and every result is finite.
    func testInferenceDuringTraining() throws {
        final class Shared: @unchecked Sendable {
            let queue = DispatchQueue(label: "shared")
            var finished = false, runs = 0, nonFinite = 0
        }
        let model = try Model(json: ModelTests.spec())
        let data = try Self.lowRankData()
        let shared = Shared()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            while !shared.queue.sync(execute: { shared.finished }) {
                let values = (try? model.reconstruct(data).values) ?? [.nan]
                shared.queue.sync {
                    shared.runs += 1
                    if !values.allSatisfy(\.isFinite) { shared.nonFinite += 1 }
                }
            }
        }
        var callbackScores: [[Float]] = []
        _ = try model.fit(data, options: Self.options(epochs: 20)) { _ in
            callbackScores.append((try? model.score(data)) ?? [])
            return true
        }
        shared.queue.sync { shared.finished = true }
        group.wait()
        XCTAssertEqual(callbackScores.count, 20)
        XCTAssertTrue(callbackScores.allSatisfy { $0.count == 64 && $0.allSatisfy(\.isFinite) })
        XCTAssertGreaterThan(shared.runs, 0)
        XCTAssertEqual(shared.nonFinite, 0)
    }

    /// The optimizer state, the generator (shuffling) and the epoch count live in the model, so
    /// training resumes exactly where it stopped.
    func testTwoFitsOfTwoEpochsEqualOneFitOfFour() throws {
        let data = try Self.lowRankData()
        let once = try Model(json: ModelTests.spec(seed: 9)), twice = try Model(json: ModelTests.spec(seed: 9))
        _ = try once.fit(data, options: Self.options(epochs: 4))
        _ = try twice.fit(data, options: Self.options(epochs: 2))
        _ = try twice.fit(data, options: Self.options(epochs: 2))
        assertIdentical(twice.parameters.array, once.parameters.array, "2 + 2 epochs vs 4")
        XCTAssertEqual(once.random, twice.random)
        XCTAssertEqual(once.epochsCompleted, 4)
        XCTAssertEqual(twice.epochsCompleted, 4)
    }

    /// Evaluating uses a trainer's workspace but changes nothing: no optimizer state appears in
    /// the model (or its file) until a step is taken.
    func testEvaluatingCreatesNoOptimizerState() throws {
        let model = try Model(json: ModelTests.spec())
        let data = try Self.lowRankData()
        let trainer = try Trainer(model: model, batchSize: 8)
        _ = try data.values.withUnsafeBufferPointer { try trainer.evaluate($0.baseAddress!, rows: data.rows) }
        XCTAssertNil(model.optimizer)
        let file = try SafetensorsFile(bytes: try model.serialized(), source: "test")
        XCTAssertFalse(file.entries.contains { $0.name.hasPrefix("optimizer.") })
        XCTAssertEqual(trainer.learningRate, model.spec.optimizer.learningRate)
        _ = try data.values.withUnsafeBufferPointer { try trainer.step($0.baseAddress!, rows: 8) }
        XCTAssertNotNil(model.optimizer)
    }

}
