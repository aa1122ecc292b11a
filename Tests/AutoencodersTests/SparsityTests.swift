import XCTest
@testable import Autoencoders

/// SparsityPenalty (Sources/Autoencoders/Losses/Sparsity.swift): the L1 activity penalty and the KL
/// sparsity penalty against PyTorch, on the code and through a sigmoid; finite differences; and in
/// a whole model, that the training gradient includes the term.
///
/// The fixtures compute P without a weight and the gradients gy·∂P/∂h; our penalty is weight·P, so
/// the value is checked at weight 1, gh at weight gy and gh_unit at weight 1.
final class SparsityTests: XCTestCase {
    /// (weight · P, ∂(weight · P)/∂h, the scratch after the call) for `h` of `batch` samples.
    private func apply(_ penalty: SparsityPenalty, _ h: [Float], batch: Int) throws -> (Double, [Float], [Float]) {
        let units = h.count / batch
        let gradient = try FloatBuffer(count: h.count), scratch = try FloatBuffer(count: units)
        let value = penalty.apply(h, batch: batch, units: units, gradient: gradient.pointer, scratch: scratch.pointer)
        return (value, gradient.array, scratch.array)
    }

    private func value(_ penalty: SparsityPenalty, _ h: [Float], batch: Int) -> Double {
        let units = h.count / batch
        var scratch = [Float](repeating: 0, count: units)
        return penalty.apply(h, batch: batch, units: units, gradient: nil, scratch: &scratch)
    }

    // MARK: Golden

    func testL1ActivityMatchesPyTorch() throws {
        let name = "penalty_l1_activity"
        let h = try Fixtures.values(name, "h"), gy = try Fixtures.values(name, "gy")[0]
        let batch = try Fixtures.shape(name, "h")[0]
        let (p, unit, _) = try apply(.l1(weight: 1), h, batch: batch)
        let (scaledValue, scaled, _) = try apply(.l1(weight: gy), h, batch: batch)
        try Fixtures.assertGolden([Float(p)], name, "penalty")
        try Fixtures.assertGolden(unit, name, "gh_unit")
        try Fixtures.assertGolden(scaled, name, "gh")
        XCTAssertEqual(scaledValue, Double(gy) * p, accuracy: 1e-6 * abs(scaledValue), "the value scales with the weight")
        XCTAssertEqual(value(.l1(weight: gy), h, batch: batch), scaledValue, "the same value without a gradient")
    }

    /// ρ̂ is checked twice: from the scratch a call without gradient leaves (documented to hold the
    /// mean activations), and recovered from the gradient, which is g = (1/N)(−ρ/ρ̂ + (1 − ρ)/(1 − ρ̂)):
    /// with c = N·g, c·ρ̂² + (1 − c)·ρ̂ − ρ = 0, whose root in (0, 1) is taken in its stable form.
    func testKLSparsityOnTheCodeMatchesPyTorch() throws {
        let name = "penalty_kl_sparsity_code"
        let rho = Float(try Fixtures.hyperparameters(name)["rho"]?.doubleValue ?? .nan)
        XCTAssertEqual(rho, 0.05)
        let h = try Fixtures.values(name, "h"), gy = try Fixtures.values(name, "gy")[0]
        let batch = try Fixtures.shape(name, "h")[0], units = h.count / batch
        let (p, unit, _) = try apply(.kl(target: rho, weight: 1), h, batch: batch)
        let (_, scaled, _) = try apply(.kl(target: rho, weight: gy), h, batch: batch)
        try Fixtures.assertGolden([Float(p)], name, "penalty")
        try Fixtures.assertGolden(unit, name, "gh_unit")
        try Fixtures.assertGolden(scaled, name, "gh")
        // Every sample of a unit gets the same gradient: ρ̂ is a batch mean.
        for n in 1..<batch { XCTAssertEqual(Array(unit[(n * units)..<((n + 1) * units)]), Array(unit[0..<units])) }

        var scratch = [Float](repeating: 0, count: units)
        _ = SparsityPenalty.kl(target: rho, weight: 1).apply(h, batch: batch, units: units, gradient: nil, scratch: &scratch)
        try Fixtures.assertGolden(scratch, name, "rhohat")

        let r = Double(rho)
        let recovered = (0..<units).map { j -> Float in
            let c = Double(batch) * Double(unit[j])
            let b = 1 - c, root = (b * b + 4 * c * r).squareRoot()
            return Float(b >= 0 ? 2 * r / (b + root) : (root - b) / (2 * c))
        }
        try Fixtures.assertGolden(recovered, name, "rhohat")
    }

    /// Through a sigmoid layer: the code is σ(a) and the gradient is taken with respect to a.
    func testKLSparsityThroughASigmoidMatchesPyTorch() throws {
        let name = "penalty_kl_sparsity_preact"
        let rho = Float(try Fixtures.hyperparameters(name)["rho"]?.doubleValue ?? .nan)
        let a = try Fixtures.values(name, "a"), gy = try Fixtures.values(name, "gy")[0]
        let shape = try Fixtures.shape(name, "a")
        let sigmoid = try LayerRunner(Activation(.sigmoid, shape: [shape[1]]), batch: shape[0])
        let h = sigmoid.forward(a)
        for (weight, suffix) in [(Float(1), "_unit"), (gy, "")] {
            let (p, gh, _) = try apply(.kl(target: rho, weight: weight), h, batch: shape[0])
            if weight == 1 { try Fixtures.assertGolden([Float(p)], name, "penalty") }
            try Fixtures.assertGolden(sigmoid.backward(gh), name, "ga" + suffix)
        }
        var scratch = [Float](repeating: 0, count: shape[1])
        _ = SparsityPenalty.kl(target: rho, weight: 1).apply(h, batch: shape[0], units: shape[1], gradient: nil, scratch: &scratch)
        try Fixtures.assertGolden(scratch, name, "rhohat")
    }

    // MARK: Finite differences

    func testPenaltiesMatchFiniteDifferences() throws {
        let batch = 5, units = 7
        // L1: values of both signs, |h| >= 0.1 so no step crosses the kink at 0.
        let signed = randomValues(batch * units, 0.1, 2, seed: 40).enumerated().map { $0.offset % 3 == 0 ? -$0.element : $0.element }
        let l1 = SparsityPenalty.l1(weight: 0.7)
        let (_, l1Gradient, _) = try apply(l1, signed, batch: batch)
        GradientCheck.check("l1 dh", at: signed, gradient: l1Gradient, step: 1e-3) { value(l1, $0, batch: batch) }
        // KL: a code in (0.05, 0.95), and targets on both sides of the mean activations.
        let h = randomValues(batch * units, 0.05, 0.95, seed: 41)
        for target: Float in [0.05, 0.3, 0.8] {
            let kl = SparsityPenalty.kl(target: target, weight: 2.5)
            let (_, gradient, _) = try apply(kl, h, batch: batch)
            GradientCheck.check("kl ρ = \(target) dh", at: h, gradient: gradient, step: 1e-3) { value(kl, $0, batch: batch) }
        }
    }

    /// The penalty adds to the gradient it is given (the decoder's gradient at the code is already there).
    func testGradientIsAddedNotOverwritten() throws {
        let h = randomValues(12, 0.1, 0.9, seed: 42)
        for penalty in [SparsityPenalty.l1(weight: 0.5), .kl(target: 0.1, weight: 2)] {
            let (_, alone, _) = try apply(penalty, h, batch: 3)
            let gradient = try FloatBuffer([Float](repeating: 1, count: h.count))
            var scratch = [Float](repeating: 0, count: 4)
            _ = penalty.apply(h, batch: 3, units: 4, gradient: gradient.pointer, scratch: &scratch)
            assertClose(gradient.array, alone.map { $0 + 1 }, relative: 1e-6, "\(penalty): 1 + ∂P/∂h")
        }
    }

    func testKLIsZeroAtTheTargetAndPositiveElsewhere() throws {
        let h = [Float](repeating: 0.2, count: 8)
        let (p, gradient, _) = try apply(.kl(target: 0.2, weight: 3), h, batch: 2)
        XCTAssertEqual(p, 0, accuracy: 1e-7)
        XCTAssertEqual(gradient.map(abs).max()!, 0, accuracy: 1e-5)
        XCTAssertGreaterThan(value(.kl(target: 0.05, weight: 3), h, batch: 2), 0)
    }

    // MARK: Whole model

    /// A 10→6→4→6→10 model whose code layer has a sigmoid (kink-free for both penalties).
    static func spec(sparsity: String, codeActivation: String = "sigmoid") -> String {
        """
        {"input_size": 10, "seed": 3, "loss": "mse", "optimizer": {"type": "sgd", "lr": 0.01},
         "regularization": {"sparsity": \(sparsity)},
         "encoder": [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dense", "units": 4, "activation": "\(codeActivation)"}],
         "decoder": [{"type": "dense", "units": 6, "activation": "tanh"}, {"type": "dense", "units": 10}]}
        """
    }

    /// `computeGradients` of a model with the penalty against finite differences of its whole
    /// objective, and the penalty's part (the same weights with weight 0 subtracted) against finite
    /// differences of the penalty alone, so a gradient missing the term cannot pass.
    private func assertModelGradientIncludesSparsity(_ penalty: String, _ penaltyOff: String, expected: SparsityPenalty) throws {
        let x = randomValues(8 * 10, -1, 1, seed: 50)
        let model = try Model(json: Self.spec(sparsity: penalty))
        let reference = try Model(json: Self.spec(sparsity: penaltyOff))
        XCTAssertEqual(model.spec.sparsity, expected)
        let p = model.parameters.array
        reference.parameters.set(p)
        let trainer = try Trainer(model: model, batchSize: 8), referenceTrainer = try Trainer(model: reference, batchSize: 8)
        let objective = trainer.computeGradients(x, rows: 8)
        let referenceObjective = referenceTrainer.computeGradients(x, rows: 8)
        XCTAssertEqual(objective, try trainer.evaluate(x, rows: 8), accuracy: 1e-6 * objective, "computeGradients vs evaluate")

        let g = model.gradients.array, g0 = reference.gradients.array
        let termGradient = zip(g, g0).map { $0 - $1 }
        let norm = { (v: [Float]) in v.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        XCTAssertGreaterThan(objective - referenceObjective, 1e-3, "the penalty contributes to the objective")
        XCTAssertGreaterThan(norm(termGradient), 0.1 * norm(g), "the penalty contributes to the gradient")

        GradientCheck.check("\(penalty): whole objective", at: p, gradient: g, directions: 8, step: 1e-3) { values in
            model.parameters.set(values)
            defer { model.parameters.set(p) }
            return (try? trainer.evaluate(x, rows: 8)) ?? .nan
        }
        GradientCheck.check("\(penalty): penalty alone", at: p, gradient: termGradient, directions: 8, step: 1e-3) { values in
            model.parameters.set(values)
            reference.parameters.set(values)
            defer { model.parameters.set(p); reference.parameters.set(p) }
            guard let with = try? trainer.evaluate(x, rows: 8), let without = try? referenceTrainer.evaluate(x, rows: 8) else { return .nan }
            return with - without
        }
    }

    func testModelGradientIncludesKLSparsity() throws {
        try assertModelGradientIncludesSparsity(#"{"type": "kl", "target": 0.05, "weight": 3}"#,
                                                #"{"type": "kl", "target": 0.05, "weight": 0}"#,
                                                expected: .kl(target: 0.05, weight: 3))
    }

    func testModelGradientIncludesL1Sparsity() throws {
        try assertModelGradientIncludesSparsity(#"{"type": "l1", "weight": 0.5}"#, #"{"type": "l1", "weight": 0}"#,
                                                expected: .l1(weight: 0.5))
    }

    /// One training step lowers the mean code activation toward a small target.
    func testTrainingWithKLLowersTheMeanActivation() throws {
        let x = randomValues(32 * 10, -1, 1, seed: 51)
        let model = try Model(json: Self.spec(sparsity: #"{"type": "kl", "target": 0.05, "weight": 3}"#))
        func meanCode() throws -> Double {
            let code = try model.encode(try Tensor(shape: [32, 10], values: x)).values
            return code.reduce(0.0) { $0 + Double($1) } / Double(code.count)
        }
        let before = try meanCode()
        let trainer = try Trainer(model: model, batchSize: 32)
        for _ in 0..<20 { _ = try trainer.step(x, rows: 32) }
        let after = try meanCode()
        XCTAssertLessThan(after, before - 0.01, "mean code activation \(before) → \(after)")
    }
}
