import XCTest
@testable import Autoencoders

/// Adversarial autoencoders (Makhzani et al. 2015): the spec, the discriminator's losses and
/// their gradients, the three phases and the parameter groups each updates, determinism and the
/// model file.
final class AdversarialTests: XCTestCase {
    static func spec(prior: String = #"{"type": "mixture", "components": 3, "radius": 2, "std": 0.5}"#,
                     discriminator: String = #"{"hidden": [5], "activation": "tanh"}"#, seed: Int = 7) -> String {
        """
        {"input_size": 6,
         "encoder": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 2}],
         "decoder": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 6, "activation": "sigmoid"}],
         "loss": "mse",
         "adversarial": {"discriminator": \(discriminator), "prior": \(prior),
                         "discriminator_optimizer": {"type": "adam", "lr": 0.01},
                         "generator_optimizer": {"type": "sgd", "lr": 0.05}},
         "seed": \(seed)}
        """
    }

    static let supervisedPrior = #"{"type": "mixture", "components": 3, "radius": 2, "std": 0.5, "supervised": true}"#
    static let x: [Float] = randomValues(8 * 6, 0, 1, seed: 3)
    static let labels: [Float] = (0..<8).map { Float($0 % 3) }

    // MARK: Spec

    func testStructureAndParameterGroups() throws {
        let model = try Model(json: Self.spec())
        XCTAssertTrue(model.isAdversarial)
        XCTAssertFalse(model.takesComponentLabels)
        XCTAssertEqual(model.priorComponents, 3)
        let discriminator = model.parameterEntries.filter { $0.group == .discriminator }
        XCTAssertEqual(discriminator.map(\.name), ["discriminator.0.weight", "discriminator.0.bias",
                                                   "discriminator.1.weight", "discriminator.1.bias"])
        XCTAssertEqual(discriminator[0].shape, [5, 2])
        XCTAssertEqual(discriminator[2].shape, [1, 5])
        // The discriminator comes last; the encoder's parameters are the first ones.
        XCTAssertEqual(model.table.discriminatorRange, (model.parameterCount - 21)..<model.parameterCount)
        XCTAssertEqual(model.table.encoderTrainableCount, 6 * 4 + 4 + 4 * 2 + 2)
        // The supervised prior's one-hot labels widen the discriminator's input.
        let supervised = try Model(json: Self.spec(prior: Self.supervisedPrior))
        XCTAssertTrue(supervised.takesComponentLabels)
        XCTAssertEqual(supervised.labelSize, 1)
        XCTAssertEqual(try supervised.parameter(named: "discriminator.0.weight").shape, [5, 5])
    }

    func testSpecErrorsAtTheirJSONPaths() {
        func message(_ json: String) -> String {
            assertThrows(.invalidSpec) { () throws(AutoencoderError) in try Model(json: json) }?.message ?? ""
        }
        XCTAssertTrue(message(Self.spec(discriminator: #"{"hidden": [5], "input_size": 3}"#))
            .hasPrefix("adversarial.discriminator.input_size: is 3, but the discriminator reads the code size: 2"))
        XCTAssertTrue(message(Self.spec(prior: Self.supervisedPrior, discriminator: #"{"hidden": [5], "input_size": 2}"#))
            .hasPrefix("adversarial.discriminator.input_size: is 2"))
        XCTAssertTrue(message(Self.spec(prior: #"{"type": "mixture", "means": [[0, 1], [1, 2, 3]], "std": 1}"#))
            .hasPrefix("adversarial.prior.means[1]: has 3 values; the code has 2 dimensions"))
        XCTAssertTrue(message(Self.spec(prior: #"{"type": "cauchy"}"#)).hasPrefix("adversarial.prior.type: unknown value"))
        XCTAssertTrue(message(Self.spec(prior: #"{"type": "uniform", "range": [1, -1]}"#)).hasPrefix("adversarial.prior.range:"))
        XCTAssertTrue(message(Self.spec(prior: #"{"type": "gaussian", "std": 0}"#)).hasPrefix("adversarial.prior.std:"))
        XCTAssertTrue(message(Self.spec(prior: #"{"type": "mixture"}"#)).hasPrefix("adversarial.prior.components:"))
        XCTAssertTrue(message(Self.spec(discriminator: #"{"hidden": []}"#)).hasPrefix("adversarial.discriminator.hidden:"))
        XCTAssertTrue(message(Self.spec(discriminator: #"{"hidden": [0]}"#)).hasPrefix("adversarial.discriminator.hidden[0]:"))
        XCTAssertTrue(message(Self.spec(discriminator: #"{"depth": 2}"#)).hasPrefix("adversarial.discriminator.depth: unknown key"))
        XCTAssertTrue(message(#"{"input_size": 4, "encoder": [{"type": "dense", "units": 1}], "decoder": [{"type": "dense", "units": 4}], "adversarial": {"discriminator": {}, "prior": {"type": "mixture", "components": 4}}}"#)
            .hasPrefix("adversarial.prior.type: a mixture on a circle needs a code of at least 2 dimensions"))
        XCTAssertTrue(message(#"{"input_size": 4, "encoder": [{"type": "dense", "units": 2}], "decoder": [{"type": "dense", "units": 4}], "adversarial": {"discriminator": {}}}"#)
            .hasPrefix("adversarial.prior: is required"))
    }

    // MARK: Losses and their gradients

    /// BCE with logits: its gradient σ(s) − t against central differences, and the stable form
    /// against the plain one.
    func testBCEWithLogitsGradient() {
        let logits: [Float] = [-3, -0.5, 0, 0.7, 4]
        for target: Float in [0, 1] {
            var gradient = [Float](repeating: 0, count: logits.count)
            let loss = AdversarialLoss.evaluate(logits: logits, rows: logits.count, target: target, gradient: &gradient, scale: 1)
            var plain = 0.0
            for s in logits {
                let p = 1 / (1 + exp(-Double(s)))
                plain += -(Double(target) * log(p) + (1 - Double(target)) * log(1 - p))
            }
            XCTAssertEqual(loss, plain / Double(logits.count), accuracy: 1e-6)
            for (i, s) in logits.enumerated() {
                let h: Float = 1e-2
                let up = AdversarialLoss.evaluate(logits: [s + h], rows: 1, target: target, gradient: nil, scale: 1)
                let down = AdversarialLoss.evaluate(logits: [s - h], rows: 1, target: target, gradient: nil, scale: 1)
                XCTAssertEqual(Double(gradient[i]), (up - down) / Double(2 * h), accuracy: 1e-3)
            }
        }
    }

    /// Golden: PyTorch's BCEWithLogitsLoss (mean) on the fixture's logits (±30 included) and soft
    /// targets, one element at a time, and its gradient with an upstream gradient of 1.
    func testBCEWithLogitsMatchesPyTorch() throws {
        let x = try Fixtures.values("loss_bce_with_logits_mean", "x"), t = try Fixtures.values("loss_bce_with_logits_mean", "target")
        let loss = try Fixtures.values("loss_bce_with_logits_mean", "loss")[0]
        let expected = try Fixtures.values("loss_bce_with_logits_mean", "gx_unit")
        var sum = 0.0, gradient = [Float](repeating: 0, count: x.count)
        for i in x.indices {
            var g: Float = 0
            sum += AdversarialLoss.evaluate(logits: [x[i]], rows: 1, target: t[i], gradient: &g, scale: 1 / Float(x.count))
            gradient[i] = g
        }
        XCTAssertEqual(sum / Double(x.count), Double(loss), accuracy: 1e-5 * Double(abs(loss)))
        assertClose(gradient, expected, rtol: 1e-4, atol: 1e-7, "BCE with logits gradient vs PyTorch")
    }

    /// L_D's gradient with respect to the discriminator's parameters, and L_G's with respect to
    /// the code, against central differences along random directions.
    func testDiscriminatorLossGradientsMatchFiniteDifferences() throws {
        let model = try Model(json: Self.spec(prior: Self.supervisedPrior))
        let trainer = try Trainer(model: model, batchSize: 4)
        let width = 5, rows = 4
        let z = randomValues(rows * width, -2, 2, seed: 1), q = randomValues(rows * width, -2, 2, seed: 2)
        var dq = [Float](repeating: 0, count: rows * width)
        let range = model.table.discriminatorRange
        func losses(_ q: [Float]) -> (Double, Double) {
            model.gradients.zero()
            var unused = [Float](repeating: 0, count: rows * width)
            return trainer.discriminatorLosses(prior: z, codes: q, rows: rows, codeGradient: &unused)
        }
        model.gradients.zero()
        _ = trainer.discriminatorLosses(prior: z, codes: q, rows: rows, codeGradient: &dq)
        let analytic = Array(model.gradients.array[range])
        XCTAssertTrue(model.gradients.array[0..<range.lowerBound].allSatisfy { $0 == 0 }, "only the discriminator group has a gradient")
        let base = model.parameters.array
        for seed: UInt64 in 1...3 {
            let direction = randomValues(range.count, -1, 1, seed: seed)
            func at(_ step: Double) -> Double {
                for (k, i) in range.enumerated() { model.parameters.pointer[i] = base[i] + Float(step) * direction[k] }
                return losses(q).0
            }
            let h = 1e-3
            let numeric = (at(h) - at(-h)) / (2 * h)
            let expected = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(numeric, expected, accuracy: 2e-3 * max(1, abs(expected)), "L_D, direction \(seed)")
        }
        for i in range { model.parameters.pointer[i] = base[i] }
        // L_G with respect to the code columns (the one-hot columns are constants).
        for seed: UInt64 in 4...6 {
            var direction = randomValues(rows * width, -1, 1, seed: seed)
            for r in 0..<rows { for j in 2..<width { direction[r * width + j] = 0 } }
            func at(_ step: Float) -> Double { losses(zip(q, direction).map { $0 + step * $1 }).1 }
            let h: Float = 1e-3
            let numeric = (at(h) - at(-h)) / Double(2 * h)
            let expected = zip(dq, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(numeric, expected, accuracy: 2e-3 * max(1, abs(expected)), "L_G, direction \(seed)")
        }
    }

    // MARK: Phases

    /// Reconstruction changes the encoder and decoder only; the discriminator phase only the
    /// discriminator; the generator phase only the encoder.
    func testEachPhaseUpdatesOnlyItsGroup() throws {
        let model = try Model(json: Self.spec())
        let trainer = try Trainer(model: model, batchSize: 8)
        let encoder = 0..<model.table.encoderTrainableCount
        let decoder = model.table.encoderTrainableCount..<model.table.trainableCount
        let discriminator = model.table.discriminatorRange
        func changed(_ before: [Float]) -> (encoder: Bool, decoder: Bool, discriminator: Bool) {
            let after = model.parameters.array
            func differs(_ range: Range<Int>) -> Bool { range.contains { before[$0] != after[$0] } }
            return (differs(encoder), differs(decoder), differs(discriminator))
        }
        try model.lock.withWriteLock { () throws(AutoencoderError) in
            Self.x.withUnsafeBufferPointer { x in model.feed(trainer.workspace, x.baseAddress!, rows: 8) }
            trainer.prepareBatch(rows: 8, masked: false)
            var before = model.parameters.array
            _ = try trainer.computeOnWorkspace(rows: 8, masked: false)
            try trainer.applyGradients()
            var c = changed(before)
            XCTAssertTrue(c.encoder && c.decoder && !c.discriminator, "reconstruction: \(c)")
            try trainer.encodeForAdversarialPhases(rows: 8)
            before = model.parameters.array
            let d = try trainer.discriminatorPhase(rows: 8)
            c = changed(before)
            XCTAssertTrue(!c.encoder && !c.decoder && c.discriminator, "discriminator: \(c)")
            before = model.parameters.array
            let g = try trainer.generatorPhase(rows: 8)
            c = changed(before)
            XCTAssertTrue(c.encoder && !c.decoder && !c.discriminator, "generator: \(c)")
            XCTAssertTrue(d.isFinite && g.isFinite)
            XCTAssertTrue(model.gradients.array.allSatisfy { $0 == 0 }, "every gradient is consumed")
        }
        XCTAssertEqual(model.optimizerStepCount, 1)
        XCTAssertEqual(model.adversarialStepCounts.discriminator, 1)
        XCTAssertEqual(model.adversarialStepCounts.generator, 1)
    }

    func train(_ model: Model, epochs: Int, labels: [Float]? = nil) throws -> TrainingReport {
        var options = TrainingOptions()
        options.epochs = epochs
        options.batchSize = 4
        return try Self.x.withUnsafeBufferPointer { x in
            if let labels {
                return try labels.withUnsafeBufferPointer { l in try model.fit(x.baseAddress!, rows: 8, labels: l.baseAddress!, options: options) }
            }
            return try model.fit(x.baseAddress!, rows: 8, options: options)
        }
    }

    func testFitReportsThreeLossesAndIsDeterministic() throws {
        let a = try Model(json: Self.spec()), b = try Model(json: Self.spec())
        var seen: [TrainingProgress] = []
        var options = TrainingOptions()
        options.epochs = 3
        options.batchSize = 4
        let report = try Self.x.withUnsafeBufferPointer { x in
            try a.fit(x.baseAddress!, rows: 8, options: options) { seen.append($0); return true }
        }
        _ = try train(b, epochs: 3)
        XCTAssertEqual(a.parameters.array, b.parameters.array, "same seed, same weights")
        XCTAssertEqual(report.discriminatorLoss.count, 3)
        XCTAssertEqual(report.generatorLoss.count, 3)
        XCTAssertEqual(report.reconstructionLoss.count, 3)
        XCTAssertTrue(report.discriminatorLoss.allSatisfy { $0.isFinite && $0 > 0 })
        XCTAssertEqual(seen.count, 3)
        XCTAssertEqual(seen.last?.discriminatorLoss, report.discriminatorLoss.last)
        XCTAssertEqual(seen.last?.generatorLoss, report.generatorLoss.last)
        XCTAssertEqual(a.adversarialStepCounts.discriminator, 6)
        let plain = try Model(json: #"{"input_size": 6, "encoder": [{"type": "dense", "units": 2}], "decoder": [{"type": "dense", "units": 6}]}"#)
        XCTAssertTrue(try train(plain, epochs: 1).discriminatorLoss.isEmpty)
        let c = try Model(json: Self.spec(seed: 8))
        _ = try train(c, epochs: 3)
        XCTAssertNotEqual(a.parameters.array, c.parameters.array, "another seed, other weights")
    }

    func testSupervisedPriorNeedsLabelsAndTrains() throws {
        let model = try Model(json: Self.spec(prior: Self.supervisedPrior))
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try Self.x.withUnsafeBufferPointer { (x) throws(AutoencoderError) in try model.fit(x.baseAddress!, rows: 8) }
        }
        let bad: [Float] = Self.labels.map { $0 == 2 ? 3 : $0 }
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try self.trainOrThrow(model, labels: bad) }
        XCTAssertTrue(error?.message.contains("labels[2] = 3.0 is not a component") ?? false, error?.message ?? "")
        XCTAssertEqual(model.optimizerStepCount, 0, "a refused call changes nothing")
        let report = try train(model, epochs: 2, labels: Self.labels)
        XCTAssertEqual(report.generatorLoss.count, 2)
        // A step with labels, and the discriminator's accuracy (a number in [0, 1]).
        let trainer = try Trainer(model: model, batchSize: 4)
        let loss = try Self.x.withUnsafeBufferPointer { x in
            try Self.labels.withUnsafeBufferPointer { l in try trainer.step(x.baseAddress!, rows: 4, labels: l.baseAddress!) }
        }
        XCTAssertTrue(loss.isFinite)
        XCTAssertTrue(trainer.lastDiscriminator.isFinite && trainer.lastGenerator.isFinite)
        let accuracy = try Self.x.withUnsafeBufferPointer { x in
            try Self.labels.withUnsafeBufferPointer { l in try trainer.discriminatorAccuracy(x.baseAddress!, rows: 8, labels: l.baseAddress!) }
        }
        XCTAssertTrue((0...1).contains(accuracy))
    }

    private func trainOrThrow(_ model: Model, labels: [Float]) throws(AutoencoderError) {
        var options = TrainingOptions()
        options.epochs = 1
        options.batchSize = 4
        try Self.x.withUnsafeBufferPointer { (x) throws(AutoencoderError) in
            try labels.withUnsafeBufferPointer { (l) throws(AutoencoderError) in
                _ = try model.fit(x.baseAddress!, rows: 8, labels: l.baseAddress!, options: options)
            }
        }
    }

    /// A validation split keeps the held-out samples' labels out of the way (they only pick
    /// components in training), and data-parallel training is refused.
    func testValidationSplitAndDataParallelRefusal() throws {
        let model = try Model(json: Self.spec(prior: Self.supervisedPrior))
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 3
        options.validationSplit = 0.25
        let report = try Self.x.withUnsafeBufferPointer { x in
            try Self.labels.withUnsafeBufferPointer { l in try model.fit(x.baseAddress!, rows: 8, labels: l.baseAddress!, options: options) }
        }
        XCTAssertEqual(report.validationLoss.count, 2)
        XCTAssertTrue(report.validationLoss.allSatisfy(\.isFinite))
        let trainer = try Trainer(model: model, batchSize: 4)
        assertThrows(.unsupported) { () throws(AutoencoderError) in
            try Self.x.withUnsafeBufferPointer { (x) throws(AutoencoderError) in
                try trainer.computeGradients(x.baseAddress!, rows: 4, firstRow: 0, totalRows: 4)
            }
        }
    }

    // MARK: Prior

    func testPriorSamples() throws {
        let model = try Model(json: Self.spec())
        let rows = 3000
        var codes = [Float](repeating: 0, count: rows * 2)
        let labels = (0..<rows).map { Int32($0 % 3) }
        try labels.withUnsafeBufferPointer { (l) throws(AutoencoderError) in
            try model.samplePrior(rows: rows, seed: 1, labels: l.baseAddress!, into: &codes)
        }
        for k in 0..<3 {
            let rowsOfK = (0..<rows).filter { $0 % 3 == k }
            let mean = (0..<2).map { j in rowsOfK.reduce(0.0) { $0 + Double(codes[$1 * 2 + j]) } / Double(rowsOfK.count) }
            let angle = 2 * Double.pi * Double(k) / 3
            XCTAssertEqual(mean[0], 2 * cos(angle), accuracy: 0.06)
            XCTAssertEqual(mean[1], 2 * sin(angle), accuracy: 0.06)
        }
        var again = [Float](repeating: 0, count: rows * 2)
        try labels.withUnsafeBufferPointer { (l) throws(AutoencoderError) in
            try model.samplePrior(rows: rows, seed: 1, labels: l.baseAddress!, into: &again)
        }
        XCTAssertEqual(codes, again)
        let uniform = try Model(json: Self.spec(prior: #"{"type": "uniform", "range": [-3, -1]}"#))
        try uniform.samplePrior(rows: rows, seed: 2, into: &codes)
        XCTAssertTrue(codes.allSatisfy { $0 >= -3 && $0 <= -1 })
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try [Int32](repeating: 0, count: rows).withUnsafeBufferPointer { (l) throws(AutoencoderError) in
                try uniform.samplePrior(rows: rows, seed: 2, labels: l.baseAddress!, into: &codes)
            }
        }
        let plain = try Model(json: BranchTests.spec())
        assertThrows(.unsupported) { () throws(AutoencoderError) in try plain.samplePrior(rows: 1, seed: 0, into: &codes) }
    }

    // MARK: Model file

    /// Save and load keep the discriminator and all three optimizers: the loaded model continues
    /// training exactly like the original.
    func testModelFileRoundTripResumesExactly() throws {
        let model = try Model(json: Self.spec())
        _ = try train(model, epochs: 2)
        let bytes = try model.serialized()
        let loaded = try ModelFile.decode(bytes, source: "bytes")
        XCTAssertTrue(loaded.isAdversarial)
        XCTAssertEqual(loaded.parameters.array, model.parameters.array)
        XCTAssertEqual(loaded.adversarialStepCounts.discriminator, 4)
        XCTAssertEqual(loaded.adversarialStepCounts.generator, 4)
        let text = String(decoding: bytes.prefix(4096), as: UTF8.self)
        XCTAssertTrue(text.contains("\"format_version\":\"4\""), "format 4")
        XCTAssertTrue(text.contains("discriminator_optimizer.exp_avg"))
        XCTAssertTrue(text.contains("generator_optimizer.momentum_buffer") || !text.contains("generator_optimizer."), "SGD without momentum keeps no buffer")
        _ = try train(model, epochs: 1)
        _ = try train(loaded, epochs: 1)
        XCTAssertEqual(loaded.parameters.array, model.parameters.array, "resumed training is identical")
        // Without optimizer state the discriminator still loads.
        let light = try ModelFile.decode(try model.serialized(includeOptimizerState: false), source: "bytes")
        XCTAssertEqual(light.parameters.array, model.parameters.array)
        XCTAssertEqual(light.adversarialStepCounts.discriminator, 0)
    }
}
