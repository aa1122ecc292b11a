import XCTest
@testable import Autoencoders

/// `Model.fit(source:)` (Training/SampleSource.swift): training on samples a function produces
/// batch by batch is training on the same samples in memory, bit for bit; a failing source or a
/// bad sample leaves the model as before the call and names the sample.
final class SampleSourceTests: XCTestCase {
    /// A source over `data`'s rows that records what it was asked for.
    final class Recorder {
        let data: Tensor
        var requests: [[Int]] = []
        /// Called before each request is filled: throw to fail it, or change the rows after.
        var before: (Int) throws(AutoencoderError) -> Void = { _ in }
        var after: (UnsafeMutablePointer<Float>) -> Void = { _ in }

        init(_ data: Tensor) { self.data = data }

        var source: SampleSource {
            SampleSource(count: data.rows) { (indices, rows) throws(AutoencoderError) in
                try self.before(self.requests.count)
                self.requests.append(Array(indices))
                let features = self.data.rowSize
                for (r, index) in indices.enumerated() {
                    for j in 0..<features { rows[r * features + j] = self.data.values[index * features + j] }
                }
                self.after(rows)
            }
        }
    }

    /// Data in [0, 1] (BCE targets), 52 rows: batches of 8 leave a short last batch.
    static func unitData(rows: Int = 52) throws -> Tensor {
        try Tensor(shape: [rows, 12], values: randomValues(rows * 12, 0.02, 0.98, seed: 41))
    }

    static let specs: [(name: String, json: String)] = [
        ("dense, MSE", ModelTests.spec(seed: 5)),
        ("denoising, BCE", ModelTests.spec(outputActivation: "sigmoid", loss: "bce", seed: 6,
                                           extra: #""noise": {"type": "gaussian", "stddev": 0.1}"#)),
        ("variational", DataParallelTests.vae),
        ("sparse, weight decay", ModelTests.spec(seed: 7, extra: #""regularization": {"weight_decay": {"lambda": 0.001}, "sparsity": {"type": "l1", "weight": 0.01}}"#)),
    ]

    func testASourceTrainsAsTheSameSamplesInMemory() throws {
        let data = try Self.unitData()
        for (name, json) in Self.specs {
            for (split, patience, scaled) in [(Float(0), 0, false), (0.25, 2, true)] {
                var options = TrainingOptions()
                options.epochs = 6
                options.batchSize = 8
                options.validationSplit = split
                options.patience = patience
                let label = "\(name), validation split \(split), \(scaled ? "input scaling" : "raw")"
                let inMemory = try Model(json: json), fromSource = try Model(json: json)
                if scaled {
                    let scaling = try data.values.withUnsafeBufferPointer { (x) throws(AutoencoderError) in
                        try InputScaling.fit(.minMax, data: x.baseAddress!, rows: 52, features: 12)
                    }
                    try inMemory.setInputScaling(scaling)
                    try fromSource.setInputScaling(scaling)
                }
                var memoryReports: [TrainingProgress] = [], sourceReports: [TrainingProgress] = []
                let expected = try inMemory.fit(data, options: options) { memoryReports.append($0); return true }
                let recorder = Recorder(data)
                let report = try fromSource.fit(source: recorder.source, options: options) { sourceReports.append($0); return true }

                XCTAssertEqual(fromSource.parameters.array, inMemory.parameters.array, label)
                XCTAssertEqual(report.trainLoss, expected.trainLoss, label)
                XCTAssertEqual(report.validationLoss, expected.validationLoss, label)
                XCTAssertEqual(report.epochsRun, expected.epochsRun, label)
                XCTAssertEqual(report.bestEpoch, expected.bestEpoch, label)
                XCTAssertEqual(sourceReports.map(\.trainLoss), memoryReports.map(\.trainLoss), label)
                XCTAssertEqual(fromSource.epochsCompleted, inMemory.epochsCompleted, label)
                // The generators advanced alike: the next epoch is the same too.
                options.validationSplit = 0
                options.epochs = 1
                _ = try inMemory.fit(data, options: options)
                _ = try fromSource.fit(source: recorder.source, options: options)
                XCTAssertEqual(fromSource.parameters.array, inMemory.parameters.array, "\(label), one epoch more")

                // What the source was asked: each epoch's training samples once, in batches of at
                // most 8, shuffled, then (with a split) the held-out last 13 in order.
                let trainRows = split == 0 ? 52 : 39
                let firstEpoch = recorder.requests.prefix((trainRows + 7) / 8)
                XCTAssertEqual(firstEpoch.flatMap { $0 }.sorted(), Array(0..<trainRows), label)
                XCTAssertTrue(firstEpoch.allSatisfy { $0.count <= 8 }, label)
                XCTAssertNotEqual(firstEpoch.flatMap { $0 }, Array(0..<trainRows), "\(label): shuffled")
                if split > 0 {
                    XCTAssertEqual(recorder.requests[firstEpoch.count...].prefix(2).flatMap { $0 }, Array(39..<52), label)
                }
            }
        }
    }

    func testExplicitValidationDataWithASource() throws {
        let data = try Self.unitData(), validation = try Self.unitData(rows: 10)
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 16
        let inMemory = try Model(json: ModelTests.spec(seed: 8)), fromSource = try Model(json: ModelTests.spec(seed: 8))
        let expected = try inMemory.fit(data, validation: validation, options: options)
        let report = try validation.values.withUnsafeBufferPointer { (v) throws(AutoencoderError) in
            try fromSource.fit(source: Recorder(data).source, validation: v.baseAddress!, validationRows: 10, options: options)
        }
        XCTAssertEqual(report.validationLoss, expected.validationLoss)
        XCTAssertEqual(fromSource.parameters.array, inMemory.parameters.array)
    }

    /// A source that fails in the middle of the second epoch, in the validation pass, or gives a
    /// non-finite value or an out-of-range BCE target: the error names the request or the
    /// sample, and the model (trained once before) is exactly as before the call.
    func testAFailedCallLeavesTheModelAsBefore() throws {
        let data = try Self.unitData()
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 8
        options.validationSplit = 0.25
        struct Failure { let name: String; let kind: AutoencoderError.Kind; let message: String; let setUp: (Recorder) -> Void }
        let failures: [Failure] = [
            Failure(name: "the source throws", kind: .io, message: "disk gone at request 7") { recorder in
                recorder.before = { (request) throws(AutoencoderError) in
                    if request == 7 { throw .io("disk gone at request \(request)") }
                }
            },
            Failure(name: "the validation pass throws", kind: .io, message: "validation unreadable") { recorder in
                recorder.before = { (request) throws(AutoencoderError) in
                    if request == 5 { throw .io("validation unreadable") }  // requests 0-4: epoch 1's batches
                }
            },
            Failure(name: "a NaN", kind: .numeric, message: "of sample") { recorder in
                var calls = 0
                recorder.after = { rows in calls += 1; if calls == 9 { rows[8 * 12 - 1] = .nan } }
            },
            Failure(name: "a target above 1", kind: .invalidArgument, message: "of the sample source") { recorder in
                var calls = 0
                recorder.after = { rows in calls += 1; if calls == 3 { rows[2 * 12 + 4] = 3 } }
            },
        ]
        for failure in failures {
            let model = try Model(json: ModelTests.spec(outputActivation: "sigmoid", loss: "bce", seed: 9))
            _ = try model.fit(data, options: options)
            let parameters = model.parameters.array, epochs = model.epochsCompleted
            let moments = model.optimizer!.state.map { $0.buffer.array }, steps = model.optimizer!.stepCount
            let recorder = Recorder(data)
            failure.setUp(recorder)
            XCTAssertThrowsError(try model.fit(source: recorder.source, options: options), failure.name) { error in
                let error = error as! AutoencoderError
                XCTAssertEqual(error.kind, failure.kind, failure.name)
                XCTAssertTrue(error.message.contains(failure.message), "\(failure.name): \(error.message)")
            }
            XCTAssertEqual(model.parameters.array, parameters, failure.name)
            XCTAssertEqual(model.epochsCompleted, epochs, failure.name)
            XCTAssertEqual(model.optimizer!.state.map { $0.buffer.array }, moments, failure.name)
            XCTAssertEqual(model.optimizer!.stepCount, steps, failure.name)
        }
    }

    /// The message of a bad sample gives its index in the source, not its row in the batch.
    func testABadSampleIsNamedByItsIndex() throws {
        let data = try Self.unitData()
        var options = TrainingOptions()
        options.epochs = 1
        options.batchSize = 8
        options.shuffle = false
        let recorder = Recorder(data)
        recorder.after = { rows in rows[3 * 12 + 5] = .infinity }  // the 4th row of every batch
        let model = try Model(json: ModelTests.spec(seed: 10))
        XCTAssertThrowsError(try model.fit(source: recorder.source, options: options)) { error in
            XCTAssertEqual((error as! AutoencoderError).message,
                           "the sample source gave inf for feature 5 of sample 3; data must be finite")
        }
    }

    /// The source runs outside the model's lock: it may run the model's inference (as a
    /// progress callback may) without deadlocking.
    func testTheSourceMayUseTheModel() throws {
        let data = try Self.unitData()
        let model = try Model(json: ModelTests.spec(seed: 11))
        var reconstructions = 0
        let source = SampleSource(count: 52) { (indices, rows) throws(AutoencoderError) in
            for (r, index) in indices.enumerated() {
                for j in 0..<12 { rows[r * 12 + j] = data.values[index * 12 + j] }
            }
            _ = try model.reconstruct(try Tensor(shape: [1, 12], values: Array(data.values[0..<12])))
            reconstructions += 1
        }
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 13
        _ = try model.fit(source: source, options: options)
        XCTAssertEqual(reconstructions, 8)
    }

    func testWhatASourceCannotTrain() throws {
        let empty = SampleSource(count: 0) { _, _ in }
        XCTAssertThrowsError(try Model(json: ModelTests.spec()).fit(source: empty)) { error in
            XCTAssertEqual((error as! AutoencoderError).message, "the sample source must hold at least one sample")
        }
        let segmentation = try Model(json: """
            {"input_shape": [1, 4, 4], "loss": "cross_entropy", "seed": 2,
             "encoder": [{"type": "conv2d", "filters": 2, "kernel": 3, "padding": 1, "activation": "relu"}],
             "decoder": [{"type": "conv2d", "filters": 3, "kernel": 1}]}
            """)
        XCTAssertThrowsError(try segmentation.fit(source: SampleSource(count: 4) { _, _ in })) { error in
            XCTAssertTrue((error as! AutoencoderError).message.contains("segmentation"))
        }
    }
}
