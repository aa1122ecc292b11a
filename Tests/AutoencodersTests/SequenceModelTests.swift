import XCTest
@testable import Autoencoders

/// The classic LSTM autoencoder built from a spec (encoder LSTM → last hidden state → repeat →
/// decoder LSTM → per-step dense) against PyTorch's `lstm_autoencoder_model`: the code, the
/// reconstruction, the first gradients, five Adam steps' losses, the loss after and every final
/// weight. Then the sequence entries' spec errors.
final class SequenceModelTests: XCTestCase {
    static let caseName = "lstm_autoencoder_model"
    static let spec = """
        {"input_shape": [10, 3],
         "encoder": [{"type": "lstm", "units": 8, "return": "last"}],
         "decoder": [{"type": "repeat", "steps": 10},
                     {"type": "lstm", "units": 8},
                     {"type": "time_distributed_dense", "units": 3}],
         "loss": "mse",
         "optimizer": {"type": "adam", "lr": 0.01}}
        """

    /// Fixture name → parameter name.
    static let parameters: [(String, String)] = {
        var pairs: [(String, String)] = []
        for (fixture, node) in [("enc", "encoder.0"), ("dec", "decoder.1")] {
            for part in ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"] { pairs.append(("\(fixture)_\(part)", "\(node).\(part)")) }
        }
        return pairs + [("out_weight", "decoder.2.weight"), ("out_bias", "decoder.2.bias")]
    }()

    private func makeModel() throws -> (Model, x: [Float]) {
        let model = try Model(json: Self.spec)
        XCTAssertEqual(model.parameterEntries.map(\.name), Self.parameters.map(\.1))
        for (fixture, name) in Self.parameters {
            let values = try Fixtures.values(Self.caseName, "\(fixture)_init")
            try values.withUnsafeBufferPointer { try model.setParameter(named: name, values: $0) }
        }
        return (model, try Fixtures.values(Self.caseName, "x"))
    }

    func testCodeAndReconstruction() throws {
        let (model, x) = try makeModel()
        let tensor = try Tensor(shape: [4, 10, 3], values: x)
        let code = try model.encode(tensor)
        XCTAssertEqual(code.shape, [4, 8])
        try Fixtures.assertGolden(code.values, Self.caseName, "code0")
        try Fixtures.assertGolden(try model.reconstruct(tensor).values, Self.caseName, "recon0")
    }

    func testFirstStepGradients() throws {
        let (model, x) = try makeModel()
        let loss = try Trainer(model: model, batchSize: 4).computeGradients(x, rows: 4)
        let tolerance = try Fixtures.tolerance(Self.caseName, "losses")
        assertClose([Float(loss)], [try Fixtures.values(Self.caseName, "losses")[0]], rtol: tolerance.rtol, atol: tolerance.atol, "loss")
        for (fixture, name) in Self.parameters {
            let entry = try model.parameterEntry(named: name)
            let gradient = Array(UnsafeBufferPointer(start: model.gradients.pointer + entry.offset, count: entry.count))
            try Fixtures.assertGolden(gradient, Self.caseName, "\(fixture)_grad0")
        }
    }

    func testFiveAdamStepsMatchPyTorch() throws {
        let (model, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 4)
        var losses: [Float] = []
        for _ in 0..<5 { losses.append(Float(try trainer.step(x, rows: 4))) }
        try Fixtures.assertGolden(losses, Self.caseName, "losses")
        try Fixtures.assertGolden([Float(try trainer.evaluate(x, rows: 4))], Self.caseName, "loss_after")
        for (fixture, name) in Self.parameters {
            try Fixtures.assertGolden(try model.parameter(named: name).values, Self.caseName, "\(fixture)_final")
        }
    }

    /// A GRU autoencoder with bidirectional stacked layers builds and trains (the loss falls).
    func testStackedBidirectionalGRUAutoencoderTrains() throws {
        let model = try Model(json: """
            {"input_shape": [12, 2],
             "encoder": [{"type": "gru", "units": 6, "layers": 2, "bidirectional": true, "dropout": 0.1, "return": "last"}],
             "decoder": [{"type": "repeat", "steps": 12}, {"type": "gru", "units": 8},
                         {"type": "time_distributed_dense", "units": 2, "activation": "tanh"}],
             "optimizer": {"type": "adam", "lr": 0.01, "clip_grad_norm": 1.0}, "seed": 4}
            """)
        XCTAssertEqual(model.graph.codeShape, [12])
        var x: [Float] = []
        for n in 0..<16 { for t in 0..<12 { x += [0.8 * Float(_sin(Double(t) * 0.5 + Double(n))), 0.5 * Float(_cos(Double(t) * 0.3 + Double(n)))] } }
        let trainer = try Trainer(model: model, batchSize: 16)
        let first = try trainer.step(x, rows: 16)
        var last = first
        for _ in 0..<60 { last = try trainer.step(x, rows: 16) }
        XCTAssertLessThan(last, 0.5 * first)
    }

    /// A trained sequence model saves and loads through the model file unchanged (PyTorch's
    /// parameter names included), and training resumes exactly.
    func testModelFileRoundTrip() throws {
        let (model, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 4)
        for _ in 0..<2 { _ = try trainer.step(x, rows: 4) }
        let loaded = try Model.load(bytes: try model.serialized())
        XCTAssertEqual(loaded.parameterEntries.map(\.name), Self.parameters.map(\.1))
        assertIdentical(loaded.parameters.array, model.parameters.array, "parameters")
        let tensor = try Tensor(shape: [4, 10, 3], values: x)
        assertIdentical(try loaded.reconstruct(tensor).values, try model.reconstruct(tensor).values, "reconstruction")
        let next = try trainer.step(x, rows: 4), resumed = try Trainer(model: loaded, batchSize: 4).step(x, rows: 4)
        XCTAssertEqual(next, resumed)
        assertIdentical(loaded.parameters.array, model.parameters.array, "parameters after one more step each")
    }

    func testSpecErrorsNameTheEntry() {
        func error(_ encoder: String, _ decoder: String, shape: String = "[10, 3]") -> String? {
            assertThrows(.invalidSpec) { () throws(AutoencoderError) in
                try Model(json: "{\"input_shape\": \(shape), \"encoder\": [\(encoder)], \"decoder\": [\(decoder)]}")
            }?.message
        }
        let decoder = "{\"type\": \"repeat\", \"steps\": 10}, {\"type\": \"lstm\", \"units\": 3}"
        XCTAssertEqual(error("{\"type\": \"lstm\"}", decoder)?.contains("encoder[0].units"), true)
        XCTAssertEqual(error("{\"type\": \"lstm\", \"units\": 4, \"return\": \"all\"}", decoder)?.contains("encoder[0].return"), true)
        XCTAssertEqual(error("{\"type\": \"lstm\", \"units\": 4, \"dropout\": 0.2}", decoder)?.contains("encoder[0].dropout"), true)
        XCTAssertEqual(error("{\"type\": \"gru\", \"units\": 4, \"cells\": 1}", decoder)?.contains("encoder[0].cells"), true)
        XCTAssertEqual(error("{\"type\": \"lstm\", \"units\": 4}", decoder, shape: "[30]")?.contains("sequence input"), true)
        XCTAssertEqual(error("{\"type\": \"lstm\", \"units\": 4}", "{\"type\": \"repeat\", \"steps\": 10}")?.contains("vector input"), true)
        XCTAssertEqual(error("{\"type\": \"lstm\", \"units\": 4, \"return\": \"last\"}", "{\"type\": \"repeat\", \"steps\": 0}")?
            .contains("decoder[0].steps"), true)
    }
}
