import XCTest
@testable import Autoencoders

/// The sequence entries of issue 11 through the spec: token models (an embedding and the
/// per-step cross-entropy), initial states, lengths through fit and inference, and the spec
/// errors with their JSON paths.
final class SequenceSpecTests: XCTestCase {
    static let text = """
        {"input_shape": [5],
         "encoder": [{"type": "embedding", "vocabulary": 6, "units": 3, "padding_id": 0},
                     {"type": "gru", "units": 4, "return": "last"}],
         "decoder": [{"type": "repeat", "steps": 5}, {"type": "gru", "units": 4},
                     {"type": "time_distributed_dense", "units": 6}],
         "loss": "sequence_cross_entropy", "optimizer": {"type": "sgd", "lr": 0.1}, "seed": 3}
        """
    static let seq2seq = """
        {"input_shape": [5, 2],
         "encoder": [{"type": "lstm", "units": 3, "return": "last", "name": "code"}],
         "decoder": [{"type": "repeat", "steps": 5},
                     {"type": "lstm", "units": 3, "initial_state": "code"},
                     {"type": "time_distributed_dense", "units": 2}],
         "optimizer": {"type": "sgd", "lr": 0.1}, "seed": 4}
        """
    static let lstm = """
        {"input_shape": [6, 2],
         "encoder": [{"type": "lstm", "units": 3, "return": "last"}],
         "decoder": [{"type": "repeat", "steps": 6}, {"type": "lstm", "units": 3},
                     {"type": "time_distributed_dense", "units": 2}],
         "optimizer": {"type": "adam", "lr": 0.01}, "seed": 6}
        """
    /// Ids of 3 samples of 5 steps (0 is the padding id, also at a valid step of sample 1).
    let tokens: [Float] = [1, 2, 3, 4, 5, 2, 0, 5, 1, 0, 3, 3, 4, 0, 0]
    let tokenLengths: [Int32] = [5, 4, 3]

    private func gradients(_ model: Model, _ x: [Float], rows: Int, lengths: [Int32]?) -> (loss: Double, gradients: [Float]) {
        model.gradients.zero()
        guard let trainer = try? Trainer(model: model, batchSize: rows) else { return (.nan, []) }
        let loss = lengths.map { l in l.withUnsafeBufferPointer { trainer.computeGradients(x, rows: rows, lengths: $0.baseAddress) } }
            ?? trainer.computeGradients(x, rows: rows)
        return (loss, Array(model.gradients.buffer[0..<model.table.trainableCount]))
    }

    /// The gradient of `model`'s objective on `x` by finite differences in the parameters.
    private func checkGradient(_ name: String, _ model: Model, _ x: [Float], rows: Int, lengths: [Int32]?) {
        let count = model.table.trainableCount
        let parameters = Array(model.parameters.buffer[0..<count])
        let analytic = gradients(model, x, rows: rows, lengths: lengths).gradients
        GradientCheck.check(name, at: parameters, gradient: analytic) { p in
            p.withUnsafeBufferPointer { model.parameters.pointer.update(from: $0.baseAddress!, count: count) }
            defer { parameters.withUnsafeBufferPointer { model.parameters.pointer.update(from: $0.baseAddress!, count: count) } }
            return gradients(model, x, rows: rows, lengths: lengths).loss
        }
    }

    // MARK: Token models

    func testTextModelFromTheSpec() throws {
        let model = try Model(json: Self.text)
        XCTAssertTrue(model.isTokenModel && model.isSequenceModel)
        XCTAssertEqual(model.vocabularySize, 6)
        XCTAssertEqual(model.outputShape, [5, 6])
        XCTAssertEqual(model.spec.task, .sequenceCrossEntropy(ignoreIndex: 0))  // the padding id by default
        XCTAssertEqual(model.spec.lossName, "sequence_cross_entropy")
        let explicit = try ModelSpec(json: Self.text.replacingOccurrences(
            of: "\"loss\": \"sequence_cross_entropy\"", with: "\"loss\": {\"type\": \"sequence_cross_entropy\", \"ignore_index\": -100}"))
        XCTAssertEqual(explicit.task, .sequenceCrossEntropy(ignoreIndex: -100))
        // At the start every logit is small: the loss is about log V.
        let (loss, _) = gradients(model, tokens, rows: 3, lengths: tokenLengths)
        XCTAssertEqual(loss, log(6.0), accuracy: 0.5)
    }

    /// ∂(sequence cross-entropy)/∂parameters of the whole text model, with lengths and an ignore
    /// index, and without either. (Without a padding id: its row's gradient is zero on purpose,
    /// as PyTorch's padding_idx, which finite differences would not see.)
    func testTextModelGradientMatchesFiniteDifferences() throws {
        let noPadding = Self.text.replacingOccurrences(of: ", \"padding_id\": 0", with: "")
        let ignoreZero = noPadding.replacingOccurrences(
            of: "\"loss\": \"sequence_cross_entropy\"", with: "\"loss\": {\"type\": \"sequence_cross_entropy\", \"ignore_index\": 0}")
        checkGradient("text model, lengths, ignore_index 0", try Model(json: ignoreZero), tokens, rows: 3, lengths: tokenLengths)
        let model = try Model(json: noPadding)
        XCTAssertEqual(model.spec.task, .sequenceCrossEntropy(ignoreIndex: -100))
        checkGradient("text model, no lengths", model, tokens, rows: 3, lengths: nil)
    }

    /// The loss is the mean over counted steps: valid and not the ignore index (here the padding id).
    func testTextLossCountsValidNonIgnoredSteps() throws {
        let model = try Model(json: Self.text)
        let (loss, _) = gradients(model, tokens, rows: 3, lengths: tokenLengths)
        var scores = [Float](repeating: 0, count: 3)
        try model.score(tokens, rows: 3, lengths: tokenLengths, into: &scores)
        // Counted steps per sample: 5, 3 (one 0 at a valid step), 3.
        let mean = (Double(scores[0]) * 5 + Double(scores[1]) * 3 + Double(scores[2]) * 3) / 11
        XCTAssertEqual(mean, loss, accuracy: 1e-5 * loss)
        var out = [Int32](repeating: -1, count: 15)
        try model.reconstructTokens(tokens, rows: 3, lengths: tokenLengths, into: &out)
        XCTAssertEqual(Array(out[9...9]) + Array(out[13...14]), [0, 0, 0])  // padded steps get the padding id
        XCTAssertTrue(out.allSatisfy { (0..<6).contains($0) })
    }

    func testTokenIdsAreValidatedEverywhere() throws {
        let model = try Model(json: Self.text)
        var bad = tokens
        bad[7] = 6
        var code = [Float](repeating: 0, count: 12)
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.encode(bad, rows: 3, into: &code) }
        XCTAssertEqual(error?.message, "input[1, 2] = 6 is not an integer token id in 0..<6")
        bad[7] = 1.5
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try model.fit(bad, rows: 3, options: TrainingOptions())
        }
        assertThrows(.unsupported) { () throws(AutoencoderError) in try model.setInputScaling(try InputScaling(offset: [0, 0, 0, 0, 0], scale: [1, 1, 1, 1, 1])) }
        var output = [Float](repeating: 0, count: 15)
        assertThrows(.unsupported) { () throws(AutoencoderError) in try model.reconstruct(tokens, rows: 3, into: &output) }
    }

    /// A token model and a seq2seq model survive the model file: same parameters, same outputs,
    /// and training resumes identically.
    func testModelFileRoundTrip() throws {
        for (json, x, rows) in [(Self.text, tokens, 3), (Self.seq2seq, randomValues(30, -1, 1, seed: 12), 3)] {
            let model = try Model(json: json)
            let trainer = try Trainer(model: model, batchSize: rows)
            _ = try trainer.step(x, rows: rows, lengths: [5, 4, 3])
            let loaded = try Model.load(bytes: try model.serialized())
            assertIdentical(loaded.parameters.array, model.parameters.array, "parameters")
            var a = [Float](repeating: 0, count: rows), b = a
            try model.score(x, rows: rows, lengths: [5, 4, 3], into: &a)
            try loaded.score(x, rows: rows, lengths: [5, 4, 3], into: &b)
            assertIdentical(a, b, "scores after loading")
            let next = try trainer.step(x, rows: rows, lengths: [5, 4, 3])
            let resumed = try Trainer(model: loaded, batchSize: rows).step(x, rows: rows, lengths: [5, 4, 3])
            XCTAssertEqual(next, resumed)
        }
    }

    // MARK: Initial states

    func testInitialStateFromTheCode() throws {
        let model = try Model(json: Self.seq2seq)
        let decoderLSTM = try XCTUnwrap(model.graph.nodes.first { $0.layer is Recurrent && !$0.isEncoder })
        XCTAssertEqual(decoderLSTM.inputs.count, 2)
        XCTAssertEqual(decoderLSTM.inputs[1], model.graph.codeNode)
        XCTAssertEqual((decoderLSTM.layer as? Recurrent)?.initialState, .hidden)
        XCTAssertTrue(model.canDecode)
        let x = randomValues(30, -1, 1, seed: 8)
        checkGradient("seq2seq with an initial state", model, x, rows: 3, lengths: [5, 2, 4])
        // h_0 and c_0 from two nodes (an LSTM).
        let both = try Model(json: """
            {"input_shape": [5, 2],
             "encoder": [{"type": "lstm", "units": 3, "return": "last", "name": "h"}, {"type": "dense", "units": 3, "name": "c"}],
             "decoder": [{"type": "repeat", "steps": 5, "inputs": ["h"]},
                         {"type": "lstm", "units": 3, "initial_state": ["h", "c"]},
                         {"type": "time_distributed_dense", "units": 2}], "seed": 2}
            """)
        XCTAssertEqual((both.graph.nodes.first { $0.layer is Recurrent && !$0.isEncoder }?.layer as? Recurrent)?.initialState, .hiddenAndCell)
        checkGradient("h_0 and c_0", both, x, rows: 3, lengths: nil)
    }

    // MARK: Lengths in fit and inference

    /// fit with lengths (shuffled) equals the same steps taken by hand on the same batches.
    func testFitWithLengthsEqualsManualSteps() throws {
        let rows = 7, x = randomValues(7 * 12, -1, 1, seed: 9)
        let lengths: [Int32] = [6, 2, 5, 1, 3, 6, 4]
        let fitted = try Model(json: Self.lstm), manual = try Model(json: Self.lstm)
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 3
        _ = try lengths.withUnsafeBufferPointer { l throws(AutoencoderError) in
            try fitted.fit(x, rows: rows, lengths: l.baseAddress, options: options)
        }
        let trainer = try Trainer(model: manual, batchSize: 3)
        for _ in 0..<2 {
            trainer.prepareOrder(count: rows, shuffle: true)
            let order = Array(trainer.order)
            XCTAssertNotEqual(order, Array(0..<rows))
            var from = 0
            while from < rows {
                let count = min(3, rows - from), samples = order[from..<(from + count)]
                let batch = samples.flatMap { x[($0 * 12)..<(($0 + 1) * 12)] }
                let batchLengths = samples.map { lengths[$0] }
                _ = try batchLengths.withUnsafeBufferPointer { l throws(AutoencoderError) in
                    try trainer.step(batch, rows: count, lengths: l.baseAddress)
                }
                from += count
            }
        }
        assertClose(fitted.parameters.array, manual.parameters.array, relative: 1e-5, "fit with lengths vs manual steps")
        XCTAssertEqual(fitted.epochsCompleted, 2)
    }

    /// A validation split keeps the held-out samples' lengths: the reported validation loss is
    /// evaluate on them with their lengths.
    func testValidationSplitKeepsLengths() throws {
        let model = try Model(json: Self.lstm)
        let x = randomValues(8 * 12, -1, 1, seed: 10)
        let lengths: [Int32] = [6, 2, 5, 1, 3, 6, 2, 3]
        var options = TrainingOptions()
        options.epochs = 1
        options.validationSplit = 0.25
        let report = try lengths.withUnsafeBufferPointer { l throws(AutoencoderError) in
            try model.fit(x, rows: 8, lengths: l.baseAddress, options: options)
        }
        let trainer = try Trainer(model: model, batchSize: 2)
        let held = Array(x[(6 * 12)...]), heldLengths: [Int32] = [2, 3]
        let withLengths = try heldLengths.withUnsafeBufferPointer { l throws(AutoencoderError) in
            try trainer.evaluate(held, rows: 2, lengths: l.baseAddress)
        }
        let without = try trainer.evaluate(held, rows: 2)
        XCTAssertEqual(report.validationLoss.first ?? .nan, withLengths, accuracy: 1e-6 * withLengths)
        XCTAssertNotEqual(withLengths, without, accuracy: 1e-9)
        // Bad lengths in fit change nothing.
        let before = model.parameters.array
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try [Int32](repeating: 0, count: 8).withUnsafeBufferPointer { l throws(AutoencoderError) in
                try model.fit(x, rows: 8, lengths: l.baseAddress, options: options)
            }
        }
        assertIdentical(model.parameters.array, before, "parameters after a refused fit")
    }

    /// encode, reconstruct and score with lengths: per sample as alone, padded outputs 0, the
    /// score a mean over valid steps; lengths of T equal no lengths.
    func testInferenceWithLengths() throws {
        let model = try Model(json: Self.lstm)
        let x = randomValues(3 * 12, -1, 1, seed: 11)
        let lengths: [Int32] = [6, 2, 4]
        var code = [Float](repeating: 0, count: 9), output = [Float](repeating: 9, count: 36), scores = [Float](repeating: 0, count: 3)
        try model.encode(x, rows: 3, lengths: lengths, into: &code)
        try model.reconstruct(x, rows: 3, lengths: lengths, into: &output)
        try model.score(x, rows: 3, lengths: lengths, into: &scores)
        for n in 0..<3 {
            let length = Int(lengths[n])
            // Sample n alone, cut to its length, gives the same code.
            let short = try Model(json: Self.lstm.replacingOccurrences(of: "[6, 2]", with: "[\(length), 2]")
                .replacingOccurrences(of: "\"steps\": 6", with: "\"steps\": \(length)"))
            for entry in model.parameterEntries {
                try model.parameter(named: entry.name).values.withUnsafeBufferPointer { v throws(AutoencoderError) in
                    try short.setParameter(named: entry.name, values: v)
                }
            }
            var alone = [Float](repeating: 0, count: 3)
            try short.encode(Array(x[(n * 12)..<(n * 12 + length * 2)]), rows: 1, into: &alone)
            assertClose(Array(code[(n * 3)..<(n * 3 + 3)]), alone, relative: 1e-5, "code of sample \(n)")
            XCTAssertTrue(output[(n * 12 + length * 2)..<((n + 1) * 12)].allSatisfy { $0 == 0 })
            var sum: Float = 0
            for i in (n * 12)..<(n * 12 + length * 2) { sum += (output[i] - x[i]) * (output[i] - x[i]) }
            XCTAssertEqual(scores[n], sum / Float(length * 2), accuracy: 1e-5)
        }
        var full = [Float](repeating: 0, count: 3), none = [Float](repeating: 0, count: 3)
        try model.score(x, rows: 3, lengths: [6, 6, 6], into: &full)
        try model.score(x, rows: 3, into: &none)
        assertClose(full, none, relative: 1e-6, "lengths of T = no lengths")
        // A pooled workspace does not keep a previous call's lengths.
        var again = [Float](repeating: 0, count: 3)
        try model.score(x, rows: 3, into: &again)
        assertIdentical(again, none, "score after a call with lengths")
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.encode(x, rows: 3, lengths: [6, 0, 1], into: &code) }
    }

    // MARK: Spec errors

    private func assertInvalid(_ json: String, path: String, contains: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = assertThrows(.invalidSpec, { () throws(AutoencoderError) in try Model(json: json) }, file: file, line: line) else { return }
        XCTAssertTrue(error.message.hasPrefix(path + ": "), "\"\(error.message)\" should start with \"\(path): \"", file: file, line: line)
        if let contains { XCTAssertTrue(error.message.contains(contains), "\"\(error.message)\" lacks \"\(contains)\"", file: file, line: line) }
    }

    func testSpecErrorsNameTheirPath() {
        let text = Self.text
        assertInvalid(text.replacingOccurrences(of: "\"vocabulary\": 6, ", with: ""), path: "encoder[0].vocabulary")
        assertInvalid(text.replacingOccurrences(of: "\"vocabulary\": 6", with: "\"vocabulary\": 0"), path: "encoder[0].vocabulary")
        assertInvalid(text.replacingOccurrences(of: "\"padding_id\": 0", with: "\"padding_id\": 6"), path: "encoder[0].padding_id")
        assertInvalid(text.replacingOccurrences(of: "\"padding_id\": 0", with: "\"padding\": 0"), path: "encoder[0].padding")
        assertInvalid(text.replacingOccurrences(of: "\"loss\": \"sequence_cross_entropy\", ", with: ""), path: "loss",
                      contains: "sequence_cross_entropy")
        assertInvalid(text.replacingOccurrences(of: "\"units\": 6}", with: "\"units\": 5}"), path: "decoder", contains: "[5, 6]")
        assertInvalid(text.replacingOccurrences(of: "[5]", with: "[5, 1]"), path: "input_shape")
        assertInvalid(text.replacingOccurrences(of: "\"seed\": 3", with: "\"noise\": {\"type\": \"gaussian\", \"stddev\": 0.1}"), path: "noise")
        assertInvalid(Self.lstm.replacingOccurrences(of: "\"optimizer\"", with: "\"loss\": \"sequence_cross_entropy\", \"optimizer\""),
                      path: "loss", contains: "embedding")
        assertInvalid(Self.lstm.replacingOccurrences(of: "{\"type\": \"repeat\", \"steps\": 6}",
                                                     with: "{\"type\": \"repeat\", \"steps\": 6}, {\"type\": \"embedding\", \"vocabulary\": 3, \"units\": 2}"),
                      path: "decoder[1]", contains: "first entry")
        let seq = Self.seq2seq
        assertInvalid(seq.replacingOccurrences(of: "\"initial_state\": \"code\"", with: "\"initial_state\": \"nowhere\""),
                      path: "decoder[1].initial_state", contains: "nowhere")
        assertInvalid(seq.replacingOccurrences(of: "\"units\": 3, \"initial_state\"", with: "\"units\": 4, \"initial_state\""),
                      path: "decoder[1].initial_state", contains: "4 values")
        assertInvalid(seq.replacingOccurrences(of: "\"initial_state\": \"code\"", with: "\"initial_state\": 3"), path: "decoder[1].initial_state")
        assertInvalid(seq.replacingOccurrences(of: "\"initial_state\": \"code\"", with: "\"initial_state\": [\"code\", 1]"),
                      path: "decoder[1].initial_state[1]")
        assertInvalid(seq.replacingOccurrences(of: "\"type\": \"lstm\", \"units\": 3, \"initial_state\": \"code\"",
                                               with: "\"type\": \"gru\", \"units\": 3, \"initial_state\": [\"code\", \"code\"]"),
                      path: "decoder[1].initial_state", contains: "gru")
        assertInvalid(seq.replacingOccurrences(of: "\"initial_state\": \"code\"", with: "\"initial_state\": \"input\""),
                      path: "decoder[1].initial_state")
    }
}
