import XCTest
@testable import Autoencoders

/// Per-sample lengths through a whole sequence model: they travel beside the batch to every
/// recurrent layer and to the loss, so padded steps change nothing; the trainer refuses bad
/// lengths before anything changes.
final class SequenceLengthTests: XCTestCase {
    static let spec = """
        {"input_shape": [6, 2],
         "encoder": [{"type": "lstm", "units": 3, "bidirectional": true, "return": "last"}],
         "decoder": [{"type": "repeat", "steps": 6}, {"type": "gru", "units": 4},
                     {"type": "time_distributed_dense", "units": 2}],
         "optimizer": {"type": "sgd", "lr": 0.1}, "seed": 5}
        """
    let lengths: [Int32] = [6, 2, 4]

    private func gradients(_ model: Model, _ x: [Float], lengths: [Int32]?) throws -> (loss: Double, gradients: [Float]) {
        model.gradients.zero()
        let trainer = try Trainer(model: model, batchSize: 3)
        let loss = lengths.map { l in l.withUnsafeBufferPointer { trainer.computeGradients(x, rows: 3, lengths: $0.baseAddress) } }
            ?? trainer.computeGradients(x, rows: 3)
        return (loss, Array(model.gradients.buffer[0..<model.table.trainableCount]))
    }

    /// What is at padded steps (inputs there) does not matter; full lengths equal no lengths.
    func testPaddedStepsDoNotMatter() throws {
        let model = try Model(json: Self.spec)
        let x = randomValues(36, -1, 1, seed: 1)
        var other = x
        for (n, length) in lengths.enumerated() { for i in (n * 12 + Int(length) * 2)..<((n + 1) * 12) { other[i] = 50 } }
        let a = try gradients(model, x, lengths: lengths), b = try gradients(model, other, lengths: lengths)
        XCTAssertEqual(a.loss, b.loss)
        assertIdentical(a.gradients, b.gradients, "gradients with different padding")
        let full = try gradients(model, x, lengths: [6, 6, 6]), none = try gradients(model, x, lengths: nil)
        XCTAssertEqual(full.loss, none.loss, accuracy: 1e-6 * none.loss)  // summed per sample rather than at once
        // Without lengths the decoder's repeated input takes the one-row-per-sample input projection
        // and dW_ih (Recurrent.inputIsConstantInTime): the same sums in another order.
        assertClose(full.gradients, none.gradients, relative: 1e-5, "full lengths = no lengths")
        XCTAssertNotEqual(a.loss, none.loss)
    }

    /// The gradient of the whole objective with lengths, by finite differences in the parameters.
    func testObjectiveGradientWithLengthsMatchesFiniteDifferences() throws {
        let model = try Model(json: Self.spec)
        let x = randomValues(36, -1, 1, seed: 2)
        let count = model.table.trainableCount
        let parameters = Array(model.parameters.buffer[0..<count])
        let analytic = try gradients(model, x, lengths: lengths).gradients
        GradientCheck.check("sequence model with lengths", at: parameters, gradient: analytic) { p in
            p.withUnsafeBufferPointer { model.parameters.pointer.update(from: $0.baseAddress!, count: count) }
            defer { parameters.withUnsafeBufferPointer { model.parameters.pointer.update(from: $0.baseAddress!, count: count) } }
            return (try? gradients(model, x, lengths: lengths).loss) ?? .nan
        }
    }

    func testBadLengthsAreRefusedAndChangeNothing() throws {
        let model = try Model(json: Self.spec)
        let trainer = try Trainer(model: model, batchSize: 3)
        let x = randomValues(36, -1, 1, seed: 3), before = model.parameters.array
        for (bad, message) in [([Int32(6), 0, 1], "lengths[1] = 0 must be between 1 and T = 6"),
                               ([6, 7, 1], "lengths[1] = 7 must be between 1 and T = 6")] {
            let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
                try bad.withUnsafeBufferPointer { l throws(AutoencoderError) in try trainer.step(x, rows: 3, lengths: l.baseAddress) }
            }
            XCTAssertEqual(error?.message, message)
        }
        let mask = [Float](repeating: 1, count: 36)
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try lengths.withUnsafeBufferPointer { l throws(AutoencoderError) in try trainer.step(x, rows: 3, mask: mask, lengths: l.baseAddress) }
        }
        let dense = try Model(json: "{\"input_size\": 4, \"encoder\": [{\"type\": \"dense\", \"units\": 2}], \"decoder\": [{\"type\": \"dense\", \"units\": 4}]}")
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try lengths.withUnsafeBufferPointer { l throws(AutoencoderError) in
                try Trainer(model: dense, batchSize: 3).step(randomValues(12, 0, 1, seed: 4), rows: 3, lengths: l.baseAddress)
            }
        }
        XCTAssertEqual(error?.message.contains("sequence models"), true)
        assertIdentical(model.parameters.array, before, "parameters after refused steps")
        // A good step trains.
        let loss = try lengths.withUnsafeBufferPointer { l throws(AutoencoderError) in try trainer.step(x, rows: 3, lengths: l.baseAddress) }
        XCTAssertTrue(loss.isFinite)
        XCTAssertNotEqual(model.parameters.array, before)
    }
}
