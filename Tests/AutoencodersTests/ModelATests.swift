import XCTest
@testable import Autoencoders

/// The whole-model golden test `model_a_dense_ae`: a 100-50-25-10-25-50-100 ReLU autoencoder
/// (ReLU after every layer, the last included), MSE, Adam lr 1e-3, full batch of 8, five steps.
/// Everything PyTorch recorded is checked: the code, the reconstruction, the first gradients,
/// the loss at every step, the loss after, and every final weight.
final class ModelATests: XCTestCase {
    static let caseName = "model_a_dense_ae"
    static let spec = """
        {"input_size": 100,
         "encoder": [{"type": "dense", "units": 50, "activation": "relu"},
                     {"type": "dense", "units": 25, "activation": "relu"},
                     {"type": "dense", "units": 10, "activation": "relu"}],
         "decoder": [{"type": "dense", "units": 25, "activation": "relu"},
                     {"type": "dense", "units": 50, "activation": "relu"},
                     {"type": "dense", "units": 100, "activation": "relu"}],
         "loss": "mse",
         "optimizer": {"type": "adam", "lr": 0.001}}
        """

    /// Fixture prefix → parameter name prefix.
    static let layers = [("enc0", "encoder.0"), ("enc1", "encoder.1"), ("enc2", "encoder.2"),
                         ("dec0", "decoder.0"), ("dec1", "decoder.1"), ("dec2", "decoder.2")]

    /// The model with PyTorch's initial weights, and the batch.
    private func makeModel() throws -> (Model, x: [Float]) {
        let model = try Model(json: Self.spec)
        XCTAssertEqual(model.parameterEntries.map(\.name),
                       Self.layers.flatMap { ["\($0.1).weight", "\($0.1).bias"] })
        for (fixture, name) in Self.layers {
            for part in ["weight", "bias"] {
                let values = try Fixtures.values(Self.caseName, "\(fixture)_\(part)_init")
                try values.withUnsafeBufferPointer { try model.setParameter(named: "\(name).\(part)", values: $0) }
            }
        }
        return (model, try Fixtures.values(Self.caseName, "x"))
    }

    private func slice(_ buffer: FloatBuffer, _ entry: ParameterEntry) -> [Float] {
        Array(UnsafeBufferPointer(start: buffer.pointer + entry.offset, count: entry.count))
    }

    func testCodeAndReconstruction() throws {
        let (model, x) = try makeModel()
        let tensor = try Tensor(shape: [8, 100], values: x)
        let code = try model.encode(tensor)
        XCTAssertEqual(code.shape, [8, 10])
        try Fixtures.assertGolden(code.values, Self.caseName, "code0")
        try Fixtures.assertGolden(try model.reconstruct(tensor).values, Self.caseName, "recon0")
    }

    func testFirstStepGradients() throws {
        let (model, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 8)
        let loss = trainer.computeGradients(x, rows: 8)
        let tolerance = try Fixtures.tolerance(Self.caseName, "losses")
        assertClose([Float(loss)], [try Fixtures.values(Self.caseName, "losses")[0]], rtol: tolerance.rtol, atol: tolerance.atol,
                    "loss before the first step")
        for (fixture, name) in Self.layers {
            for part in ["weight", "bias"] {
                let entry = try model.parameterEntry(named: "\(name).\(part)")
                try Fixtures.assertGolden(slice(model.gradients, entry), Self.caseName, "\(fixture)_\(part)_grad0")
            }
        }
    }

    func testFiveAdamStepsMatchPyTorch() throws {
        let (model, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 8)
        var losses: [Float] = []
        for _ in 0..<5 { losses.append(Float(try trainer.step(x, rows: 8))) }
        try Fixtures.assertGolden(losses, Self.caseName, "losses")
        try Fixtures.assertGolden([Float(try trainer.evaluate(x, rows: 8))], Self.caseName, "loss_after")
        for (fixture, name) in Self.layers {
            for part in ["weight", "bias"] {
                try Fixtures.assertGolden(try model.parameter(named: "\(name).\(part)").values, Self.caseName, "\(fixture)_\(part)_final")
            }
        }
        XCTAssertEqual(model.gradients.array.filter { $0 != 0 }.count, 0, "the step leaves the gradients at zero")
    }
}
