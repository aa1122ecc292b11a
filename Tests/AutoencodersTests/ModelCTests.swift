import XCTest
@testable import Autoencoders

/// The whole-model golden test `model_c_tiny_vae`: 12 → 8 tanh → (μ, log σ²) of 2 → z → 8 tanh →
/// 12 sigmoid, loss = BCE summed over features / N + KL / N, one forward and backward with ε
/// fixed: μ, log σ², z, the reconstruction, both loss terms and every gradient against PyTorch;
/// and the reparameterised gradient by finite differences with ε fixed.
final class ModelCTests: XCTestCase {
    static let caseName = "model_c_tiny_vae"
    static let spec = """
        {"input_size": 12,
         "encoder": [{"type": "dense", "name": "enc", "units": 8, "activation": "tanh"},
                     {"type": "variational", "name": "latent", "units": 2}],
         "decoder": [{"type": "dense", "name": "dec1", "units": 8, "activation": "tanh"},
                     {"type": "dense", "name": "dec2", "units": 12, "activation": "sigmoid"}],
         "loss": "bce"}
        """
    /// Parameter name → fixture prefix.
    static let parameters = [("enc", "enc"), ("latent.mu", "fc_mu"), ("latent.logvar", "fc_logvar"), ("dec1", "dec1"), ("dec2", "dec2")]

    private func makeModel() throws -> (Model, Variational, x: [Float]) {
        let model = try Model(json: Self.spec)
        for (name, fixture) in Self.parameters {
            for part in ["weight", "bias"] {
                let values = try Fixtures.values(Self.caseName, "\(fixture)_\(part)")
                try values.withUnsafeBufferPointer { try model.setParameter(named: "\(name).\(part)", values: $0) }
            }
        }
        let variational = try XCTUnwrap(model.graph.nodes[model.graph.codeNode].layer as? Variational)
        variational.fixedNoise = try Fixtures.values(Self.caseName, "eps")
        return (model, variational, try Fixtures.values(Self.caseName, "x"))
    }

    func testForwardLossAndGradientsMatchPyTorch() throws {
        let (model, variational, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 4)
        let loss = trainer.computeGradients(x, rows: 4)
        try Fixtures.assertGolden([Float(loss)], Self.caseName, "loss")

        let code = model.graph.codeNode
        let regions = variational.regions(trainer.workspace.scratch[code].pointer, batch: 4)
        try Fixtures.assertGolden(Array(UnsafeBufferPointer(start: regions.mean, count: 8)), Self.caseName, "mu")
        try Fixtures.assertGolden(Array(UnsafeBufferPointer(start: regions.logVariance, count: 8)), Self.caseName, "logvar")
        try Fixtures.assertGolden(Array(trainer.workspace.activations[code].array.prefix(8)), Self.caseName, "z")
        let kl = model.objective.klDivergence(workspace: trainer.workspace, batch: 4)
        try Fixtures.assertGolden([Float(kl)], Self.caseName, "kl")
        try Fixtures.assertGolden([Float(loss - kl)], Self.caseName, "bce")

        for (name, fixture) in Self.parameters {
            for part in ["weight", "bias"] {
                let entry = try model.parameterEntry(named: "\(name).\(part)")
                let gradient = Array(UnsafeBufferPointer(start: model.gradients.pointer + entry.offset, count: entry.count))
                try Fixtures.assertGolden(gradient, Self.caseName, "\(fixture)_\(part)_grad")
            }
        }
    }

    func testReconstructionUsesTheMeanInInference() throws {
        let (model, _, x) = try makeModel()
        let code = try model.encode(Tensor(shape: [4, 12], values: x))
        try Fixtures.assertGolden(code.values, Self.caseName, "mu")
    }

    /// Finite differences of the whole objective along random parameter directions, ε fixed.
    func testReparameterisedGradientMatchesFiniteDifferences() throws {
        let (model, _, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 4)
        model.gradients.zero()
        _ = trainer.computeGradients(x, rows: 4)
        let analytic = model.gradients.array
        let base = model.parameters.array
        for seed: UInt64 in 1...3 {
            let direction = randomValues(base.count, -1, 1, seed: seed)
            func objective(_ step: Double) -> Double {
                for i in 0..<base.count { model.parameters.pointer[i] = base[i] + Float(step) * direction[i] }
                model.gradients.zero()
                return trainer.computeGradients(x, rows: 4)
            }
            let h = 1e-2
            let numeric = (objective(h) - objective(-h)) / (2 * h)
            let expected = zip(analytic, direction).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            XCTAssertEqual(numeric, expected, accuracy: 2e-3 * max(1, abs(expected)), "direction \(seed)")
        }
        for i in 0..<base.count { model.parameters.pointer[i] = base[i] }
    }

    func testSpecErrors() {
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(json: Self.spec.replacingOccurrences(of: #""units": 2}"#, with: "}"))
        }
        assertThrows(.invalidSpec) { () throws(AutoencoderError) in
            try Model(json: Self.spec.replacingOccurrences(of: #""units": 2}"#, with: #""units": 2, "beta": -1}"#))
        }
    }
}
