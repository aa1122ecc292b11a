import XCTest
@testable import Autoencoders

/// The whole-model golden test `model_b_conv_ae`: conv → max pool (with indices) → conv (the code)
/// → conv → max unpool with the pool's indices (a SegNet index link) → transposed conv → sigmoid,
/// BCE. One forward and backward: every intermediate map, the indices (bit for bit), the loss and
/// every weight gradient against PyTorch.
final class ModelBTests: XCTestCase {
    static let caseName = "model_b_conv_ae"
    static let spec = """
        {"input_shape": [1, 8, 8],
         "encoder": [{"type": "conv2d", "name": "enc1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                     {"type": "max_pool2d", "name": "pool", "kernel": 2},
                     {"type": "conv2d", "name": "enc2", "filters": 8, "kernel": 3, "padding": 1, "activation": "relu"}],
         "decoder": [{"type": "conv2d", "name": "dec1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                     {"type": "max_unpool2d", "name": "unpool", "indices_from": "pool"},
                     {"type": "conv_transpose2d", "name": "dec2", "filters": 1, "kernel": 3, "padding": 1, "activation": "sigmoid"}],
         "loss": "bce"}
        """
    static let layers = ["enc1", "enc2", "dec1", "dec2"]

    private func makeModel() throws -> (Model, x: [Float]) {
        let model = try Model(json: Self.spec)
        XCTAssertEqual(model.parameterEntries.map(\.name), Self.layers.flatMap { ["\($0).weight", "\($0).bias"] })
        for layer in Self.layers {
            for part in ["weight", "bias"] {
                let values = try Fixtures.values(Self.caseName, "\(layer)_\(part)")
                try values.withUnsafeBufferPointer { try model.setParameter(named: "\(layer).\(part)", values: $0) }
            }
        }
        return (model, try Fixtures.values(Self.caseName, "x"))
    }

    func testShapesAndDecodeRefusal() throws {
        let (model, _) = try makeModel()
        XCTAssertEqual(model.inputShape, [1, 8, 8])
        XCTAssertEqual(model.codeShape, [8, 4, 4])
        XCTAssertFalse(model.canDecode, "the decoder needs the pooling indices of the encoder")
        assertThrows(.unsupported) { () throws(AutoencoderError) in try model.decode(Tensor(zeros: [1, 128])) }
    }

    func testForwardMatchesPyTorch() throws {
        let (model, x) = try makeModel()
        let workspace = try Workspace(graph: model.graph, capacity: 2, trainable: false)
        model.feed(workspace, x, rows: 2)
        model.graph.infer(workspace, batch: 2, nodes: 0...model.graph.outputNode)
        func activation(_ node: String) throws -> [Float] {
            let index = try XCTUnwrap(model.nodeNames.firstIndex(of: node), node)
            return workspace.activations[index].array.prefix(2 * model.graph.nodes[index].layer.outputSize).map { $0 }
        }
        try Fixtures.assertGolden(try activation("enc1.relu"), Self.caseName, "a1")
        try Fixtures.assertGolden(try activation("pool"), Self.caseName, "pooled")
        try Fixtures.assertGolden(try activation("enc2.relu"), Self.caseName, "code")
        try Fixtures.assertGolden(try activation("dec1.relu"), Self.caseName, "d1")
        try Fixtures.assertGolden(try activation("unpool"), Self.caseName, "unpooled")
        try Fixtures.assertGolden(try activation("dec2"), Self.caseName, "logits")
        try Fixtures.assertGolden(try activation("dec2.sigmoid"), Self.caseName, "y")

        // The indices decide where unpooling puts values (23 windows are all-zero ties): bit for bit.
        let pool = try XCTUnwrap(model.nodeNames.firstIndex(of: "pool"))
        let indices = MaxPool.indices(in: workspace.scratch[pool].pointer)
        let ours = (0..<(2 * 4 * 4 * 4)).map { Int(indices[$0]) }
        XCTAssertEqual(ours, try Fixtures.integers(Self.caseName, "pool_indices"))
        try Fixtures.assertGolden(try model.reconstruct(Tensor(shape: [2, 64], values: x)).values, Self.caseName, "y")
    }

    func testLossAndEveryGradientMatchPyTorch() throws {
        let (model, x) = try makeModel()
        let trainer = try Trainer(model: model, batchSize: 2)
        let loss = trainer.computeGradients(x, rows: 2)
        try Fixtures.assertGolden([Float(loss)], Self.caseName, "loss")
        for layer in Self.layers {
            for part in ["weight", "bias"] {
                let entry = try model.parameterEntry(named: "\(layer).\(part)")
                let gradient = Array(UnsafeBufferPointer(start: model.gradients.pointer + entry.offset, count: entry.count))
                try Fixtures.assertGolden(gradient, Self.caseName, "\(layer)_\(part)_grad")
            }
        }
    }

    func testTrainsSavesAndLoads() throws {
        let (model, x) = try makeModel()
        var options = TrainingOptions()
        options.epochs = 5
        options.batchSize = 2
        let report = try model.fit(Tensor(shape: [2, 64], values: x), options: options)
        XCTAssertLessThan(report.trainLoss.last!, report.trainLoss.first!)
        let loaded = try Model.load(bytes: try model.serialized())
        XCTAssertEqual(try loaded.reconstruct(Tensor(shape: [2, 64], values: x)).values,
                       try model.reconstruct(Tensor(shape: [2, 64], values: x)).values)
    }
}
