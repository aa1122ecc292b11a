import Glibc
import XCTest
@testable import Autoencoders

/// ContractivePenalty (Sources/Autoencoders/Losses/Contractive.swift): λ‖∂h/∂x‖²_F of a dense
/// sigmoid code against PyTorch (value and the gradients with respect to x, W and b), by hand
/// through the layers and through a whole model; the tanh form and a deeper encoder by finite
/// differences.
final class ContractiveTests: XCTestCase {
    static let caseName = "penalty_contractive"

    /// A 6→4 encoder with the given code activation and a 4→6 linear decoder.
    static func spec(weight: Float, activation: String = "sigmoid", hidden: Bool = false) -> String {
        let encoder = hidden
            ? #"[{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 4, "activation": "\#(activation)"}]"#
            : #"[{"type": "dense", "units": 4, "activation": "\#(activation)"}]"#
        return """
        {"input_size": 6, "seed": 4, "loss": "mse", "optimizer": {"type": "sgd", "lr": 0.01},
         "regularization": {"contractive": {"weight": \(weight)}},
         "encoder": \(encoder), "decoder": [{"type": "dense", "units": 6}]}
        """
    }

    /// Runs h = σ(x Wᵀ + b), the penalty with weight `weight`, and backward by hand:
    /// (penalty, gx, gW, gb).
    private func byHand(weight: Float, x: [Float], w: [Float], b: [Float], batch: Int) throws -> (Double, [Float], [Float], [Float]) {
        let dense = Dense(inputFeatures: 6, outputFeatures: 4)
        let denseRunner = try LayerRunner(dense, batch: batch)
        let sigmoid = try LayerRunner(Activation(.sigmoid, shape: [4]), batch: batch)
        denseRunner.setParameter(0, w)
        denseRunner.setParameter(1, b)
        let h = sigmoid.forward(denseRunner.forward(x))
        let penalty = ContractivePenalty(weight: weight, isSigmoid: true, dense: dense)
        let gh = try FloatBuffer(count: h.count), scratch = try FloatBuffer(count: 8)
        let value = penalty.apply(h, batch: batch, gradientH: gh.pointer, scratch: scratch.pointer)
        let gx = denseRunner.backward(sigmoid.backward(gh.array))   // adds to the direct ∂/∂W already in gradients[0]
        return (value, gx, denseRunner.gradients[0].array, denseRunner.gradients[1].array)
    }

    func testPenaltyAndGradientsMatchPyTorchByHand() throws {
        let name = Self.caseName
        let x = try Fixtures.values(name, "x"), w = try Fixtures.values(name, "W"), b = try Fixtures.values(name, "b")
        let gy = try Fixtures.values(name, "gy")[0]
        let batch = try Fixtures.shape(name, "x")[0]
        for (weight, suffix) in [(Float(1), "_unit"), (gy, "")] {
            let (value, gx, gW, gb) = try byHand(weight: weight, x: x, w: w, b: b, batch: batch)
            if weight == 1 { try Fixtures.assertGolden([Float(value)], name, "penalty") }
            try Fixtures.assertGolden(gx, name, "gx" + suffix)
            try Fixtures.assertGolden(gW, name, "gW" + suffix)
            try Fixtures.assertGolden(gb, name, "gb" + suffix)
        }
    }

    /// The penalty without gradients gives the same value and touches no gradient.
    func testValueWithoutGradientsLeavesGradientsAlone() throws {
        let x = try Fixtures.values(Self.caseName, "x"), w = try Fixtures.values(Self.caseName, "W")
        let dense = Dense(inputFeatures: 6, outputFeatures: 4)
        let runner = try LayerRunner(dense, batch: 3)
        runner.setParameter(0, w)
        let h = try LayerRunner(Activation(.sigmoid, shape: [4]), batch: 3).forward(runner.forward(x))
        let scratch = try FloatBuffer(count: 8)
        let value = ContractivePenalty(weight: 2, isSigmoid: true, dense: dense).apply(h, batch: 3, gradientH: nil, scratch: scratch.pointer)
        let (withGradients, _, _, _) = try byHand(weight: 2, x: x, w: w, b: [0, 0, 0, 0], batch: 3)
        XCTAssertEqual(value, withGradients)
        XCTAssertEqual(runner.gradients[0].array.filter { $0 != 0 }.count, 0)
    }

    /// Whole model: the encoder is the fixture's layer; the penalty's gradient is the model's
    /// gradient with weight gy minus the same model's with weight 0 (the decoder's part cancels).
    func testModelGradientMatchesPyTorch() throws {
        let name = Self.caseName
        let x = try Fixtures.values(name, "x"), w = try Fixtures.values(name, "W"), b = try Fixtures.values(name, "b")
        let gy = try Fixtures.values(name, "gy")[0]
        let model = try Model(json: Self.spec(weight: gy)), reference = try Model(json: Self.spec(weight: 0))
        XCTAssertEqual(model.spec.contractiveWeight, gy)
        XCTAssertNotNil(model.objective.contractive)
        try w.withUnsafeBufferPointer { try model.setParameter(named: "encoder.0.weight", values: $0) }
        try b.withUnsafeBufferPointer { try model.setParameter(named: "encoder.0.bias", values: $0) }
        reference.parameters.set(model.parameters.array)
        let objective = try Trainer(model: model, batchSize: 3).computeGradients(x, rows: 3)
        let referenceObjective = try Trainer(model: reference, batchSize: 3).computeGradients(x, rows: 3)
        let penalty = try Fixtures.values(name, "penalty")[0]
        let tolerance = try Fixtures.tolerance(name, "penalty")
        assertClose([Float((objective - referenceObjective) / Double(gy))], [penalty], rtol: tolerance.rtol, atol: tolerance.atol,
                    "objective difference / gy")
        for (parameter, fixture) in [("encoder.0.weight", "gW"), ("encoder.0.bias", "gb")] {
            let entry = try model.parameterEntry(named: parameter)
            let with = Array(model.gradients.array[entry.offset..<(entry.offset + entry.count)])
            let without = Array(reference.gradients.array[entry.offset..<(entry.offset + entry.count)])
            try Fixtures.assertGolden(zip(with, without).map { $0 - $1 }, name, fixture)
        }
        // The decoder's gradient does not see the penalty.
        for parameter in ["decoder.0.weight", "decoder.0.bias"] {
            let entry = try model.parameterEntry(named: parameter)
            assertIdentical(Array(model.gradients.array[entry.offset..<(entry.offset + entry.count)]),
                            Array(reference.gradients.array[entry.offset..<(entry.offset + entry.count)]), parameter)
        }
    }

    /// Finite differences of the whole objective and of the penalty alone (weight w minus weight 0)
    /// over every parameter, for sigmoid and tanh codes, with the code layer first or second.
    func testModelGradientMatchesFiniteDifferences() throws {
        let x = randomValues(5 * 6, -1, 1, seed: 60)
        for activation in ["sigmoid", "tanh"] {
            for hidden in [false, true] {
                let name = "\(activation) code\(hidden ? " after a hidden layer" : "")"
                let model = try Model(json: Self.spec(weight: 0.7, activation: activation, hidden: hidden))
                let reference = try Model(json: Self.spec(weight: 0, activation: activation, hidden: hidden))
                XCTAssertEqual(model.objective.contractive?.isSigmoid, activation == "sigmoid", name)
                let p = model.parameters.array
                reference.parameters.set(p)
                let trainer = try Trainer(model: model, batchSize: 5), referenceTrainer = try Trainer(model: reference, batchSize: 5)
                let objective = trainer.computeGradients(x, rows: 5)
                _ = referenceTrainer.computeGradients(x, rows: 5)
                XCTAssertEqual(objective, try trainer.evaluate(x, rows: 5), accuracy: 1e-6 * objective, name)
                let g = model.gradients.array
                let term = zip(g, reference.gradients.array).map { $0 - $1 }
                XCTAssertGreaterThan(term.map { abs($0) }.max()!, 1e-3, "\(name): the penalty has a gradient")
                GradientCheck.check("\(name): whole objective", at: p, gradient: g, directions: 8, step: 1e-3) { values in
                    model.parameters.set(values)
                    defer { model.parameters.set(p) }
                    return (try? trainer.evaluate(x, rows: 5)) ?? .nan
                }
                GradientCheck.check("\(name): penalty alone", at: p, gradient: term, directions: 8, step: 1e-3) { values in
                    model.parameters.set(values)
                    reference.parameters.set(values)
                    defer { model.parameters.set(p); reference.parameters.set(p) }
                    guard let with = try? trainer.evaluate(x, rows: 5), let without = try? referenceTrainer.evaluate(x, rows: 5) else { return .nan }
                    return with - without
                }
            }
        }
    }

    /// The closed form equals ‖J‖²_F of the Jacobian J = diag(f′(a)) W computed explicitly.
    func testClosedFormEqualsExplicitJacobianForTanh() throws {
        let batch = 4
        let x = randomValues(batch * 6, -1, 1, seed: 61), w = randomValues(24, -0.8, 0.8, seed: 62), b = randomValues(4, -0.3, 0.3, seed: 63)
        let dense = Dense(inputFeatures: 6, outputFeatures: 4)
        let runner = try LayerRunner(dense, batch: batch)
        runner.setParameter(0, w)
        runner.setParameter(1, b)
        let a = runner.forward(x)
        let h = try LayerRunner(Activation(.tanh, shape: [4]), batch: batch).forward(a)
        let scratch = try FloatBuffer(count: 8)
        let value = ContractivePenalty(weight: 1.5, isSigmoid: false, dense: dense).apply(h, batch: batch, gradientH: nil, scratch: scratch.pointer)
        var explicit = 0.0
        for n in 0..<batch {
            for j in 0..<4 {
                let t = Glibc.tanh(Double(a[n * 4 + j]))
                for i in 0..<6 {
                    let entry = (1 - t * t) * Double(w[j * 6 + i])   // ∂hⱼ/∂xᵢ
                    explicit += entry * entry
                }
            }
        }
        XCTAssertEqual(value, 1.5 * explicit / Double(batch), accuracy: 1e-5 * value)
    }

    /// Training with the penalty makes the encoder less sensitive to its input than training without.
    func testTrainingLowersTheJacobianNorm() throws {
        let x = randomValues(16 * 6, -1, 1, seed: 64)
        func jacobianPenalty(after weight: Float) throws -> Double {
            let model = try Model(json: Self.spec(weight: weight))
            let trainer = try Trainer(model: model, batchSize: 16)
            for _ in 0..<30 { _ = try trainer.step(x, rows: 16) }
            let measure = try Model(json: Self.spec(weight: 1))
            measure.parameters.set(model.parameters.array)
            let zero = try Model(json: Self.spec(weight: 0))
            zero.parameters.set(model.parameters.array)
            return try Trainer(model: measure, batchSize: 16).evaluate(x, rows: 16) - Trainer(model: zero, batchSize: 16).evaluate(x, rows: 16)
        }
        let with = try jacobianPenalty(after: 5), without = try jacobianPenalty(after: 0)
        XCTAssertLessThan(with, without, "‖J‖² after training with the penalty \(with), without \(without)")
    }
}
