import XCTest
@testable import Autoencoders

/// Training/DataParallel.swift: a step split into compute → exchange → apply. Two shards of a
/// batch, computed on two copies of a model and summed, give the gradient, loss and update of
/// one model on the whole batch (dense AE with weight decay, VAE with its sampled code).
final class DataParallelTests: XCTestCase {
    static let dense = #"{"input_size": 12, "seed": 5, "encoder": [{"type": "dense", "units": 6, "activation": "tanh"}], "decoder": [{"type": "dense", "units": 12}], "optimizer": {"type": "adam", "lr": 0.01}, "regularization": {"weight_decay": {"lambda": 0.001}}}"#
    static let vae = #"{"input_size": 12, "seed": 9, "encoder": [{"type": "dense", "units": 8, "activation": "relu"}, {"type": "variational", "units": 3}], "decoder": [{"type": "dense", "units": 12}], "optimizer": {"type": "adam", "lr": 0.01}}"#

    /// Rows 0..<3 on one model and 3..<8 on another, summed and applied to both, against one
    /// model stepping on all 8 rows: losses, gradients and the weights after two steps agree.
    func checkShardsMatchOneProcess(_ spec: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let x = randomValues(8 * 12, -0.9, 0.9, seed: 31)
        let whole = try Model(json: spec), a = try Model(json: spec), b = try Model(json: spec)
        let trainers = (whole: try Trainer(model: whole, batchSize: 8), a: try Trainer(model: a, batchSize: 8), b: try Trainer(model: b, batchSize: 8))
        XCTAssertEqual(a.fingerprint, whole.fingerprint, file: file, line: line)
        let count = trainers.a.gradientCount
        var ga = [Float](repeating: 0, count: count), gb = ga, gw = ga
        for step in 0..<2 {
            let full = try trainers.whole.computeGradients(x, rows: 8, firstRow: 0, totalRows: 8)
            try trainers.whole.copyGradients(to: &gw, count: count)
            let la = try trainers.a.computeGradients(x, rows: 3, firstRow: 0, totalRows: 8)
            let lb = try x.withUnsafeBufferPointer { try trainers.b.computeGradients($0.baseAddress! + 3 * 12, rows: 5, firstRow: 3, totalRows: 8) }
            XCTAssertEqual(la + lb, full, accuracy: 1e-5 * abs(full), "loss, step \(step)", file: file, line: line)
            try trainers.a.copyGradients(to: &ga, count: count)
            try trainers.b.copyGradients(to: &gb, count: count)
            let sum = zip(ga, gb).map { $0 + $1 }
            let scale = gw.map(abs).max()!
            for i in 0..<count {
                XCTAssertEqual(sum[i], gw[i], accuracy: 1e-5 * scale, "gradient \(i), step \(step)", file: file, line: line)
            }
            try trainers.a.setGradients(sum, count: count)
            try trainers.b.setGradients(sum, count: count)
            try trainers.whole.applyHeldGradients()
            try trainers.a.applyHeldGradients()
            try trainers.b.applyHeldGradients()
            XCTAssertEqual(a.random, b.random, "the shards' generators stay together", file: file, line: line)
            XCTAssertEqual(a.random, whole.random, "and with the whole batch's", file: file, line: line)
        }
        for i in 0..<whole.parameterCount {
            XCTAssertEqual(a.parameters.pointer[i], whole.parameters.pointer[i], accuracy: 1e-5, "parameter \(i)", file: file, line: line)
            XCTAssertEqual(a.parameters.pointer[i], b.parameters.pointer[i], "parameter \(i): ranks agree bit for bit", file: file, line: line)
        }
        XCTAssertEqual(whole.optimizerStepCount, 2, file: file, line: line)
    }

    func testDenseShardsMatchOneProcess() throws { try checkShardsMatchOneProcess(Self.dense) }
    func testVariationalShardsMatchOneProcess() throws { try checkShardsMatchOneProcess(Self.vae) }

    /// compute then apply on a whole batch is a step: the same loss and the same weights.
    func testComputeThenApplyIsAStep() throws {
        let x = randomValues(8 * 12, -0.9, 0.9, seed: 32)
        let stepped = try Model(json: Self.vae), phased = try Model(json: Self.vae)
        let s = try Trainer(model: stepped, batchSize: 8), p = try Trainer(model: phased, batchSize: 8)
        for _ in 0..<3 {
            let loss = try s.step(x, rows: 8)
            XCTAssertEqual(try p.computeGradients(x, rows: 8, firstRow: 0, totalRows: 8), loss)
            try p.applyHeldGradients()
        }
        for i in 0..<stepped.parameterCount { XCTAssertEqual(stepped.parameters.pointer[i], phased.parameters.pointer[i]) }
        XCTAssertEqual(stepped.random, phased.random)
    }

    func testMisuseIsRefusedAndChangesNothing() throws {
        let model = try Model(json: Self.dense)
        let trainer = try Trainer(model: model, batchSize: 4)
        let x = randomValues(4 * 12, -0.9, 0.9, seed: 33)
        XCTAssertThrowsError(try trainer.applyHeldGradients()) { XCTAssertTrue("\($0)".contains("no gradient is held")) }
        XCTAssertThrowsError(try trainer.computeGradients(x, rows: 4, firstRow: 2, totalRows: 5)) { XCTAssertTrue("\($0)".contains("total_rows")) }
        _ = try trainer.computeGradients(x, rows: 4, firstRow: 0, totalRows: 8)
        let count = trainer.gradientCount
        let short = [Float](repeating: 0, count: count - 1)
        XCTAssertThrowsError(try trainer.setGradients(short, count: count - 1)) { XCTAssertTrue("\($0)".contains("\(count) floats")) }
        var bad = [Float](repeating: 0, count: count)
        bad[7] = .nan
        XCTAssertThrowsError(try trainer.setGradients(bad, count: count)) { XCTAssertTrue("\($0)".contains("gradients[7]")) }
        let before = Array(UnsafeBufferPointer(start: model.parameters.pointer, count: model.parameterCount))
        XCTAssertThrowsError(try model.setParameters(short, count: count - 1))
        XCTAssertEqual(Array(UnsafeBufferPointer(start: model.parameters.pointer, count: model.parameterCount)), before)
        // A step drops the held gradient instead of adding to it.
        let reference = try Model(json: Self.dense)
        let loss = try trainer.step(x, rows: 4)
        XCTAssertEqual(loss, try Trainer(model: reference, batchSize: 4).step(x, rows: 4))
        for i in 0..<model.parameterCount { XCTAssertEqual(model.parameters.pointer[i], reference.parameters.pointer[i]) }
    }

    func testFingerprintTellsModelsApart() throws {
        let a = try Model(json: Self.dense), b = try Model(json: Self.dense)
        XCTAssertEqual(a.fingerprint, b.fingerprint)
        XCTAssertNotEqual(a.fingerprint, try Model(json: Self.dense.replacingOccurrences(of: "\"units\": 6", with: "\"units\": 7")).fingerprint)
        XCTAssertNotEqual(a.fingerprint, try Model(json: Self.dense.replacingOccurrences(of: "0.001", with: "0.002")).fingerprint)
    }
}
