import XCTest
@testable import Autoencoders

/// A ReLU works in place on the output of the dense layer or convolution before it
/// (`Graph.worksInPlace`): only where nothing else reads that output and the model does not
/// expose it, and with results bit for bit those of separate buffers.
final class InPlaceActivationTests: XCTestCase {
    static let dense = """
        {"input_size": 12, "seed": 3, "loss": "bce_with_logits",
         "encoder": [{"type": "dense", "name": "e1", "units": 10, "activation": "relu"},
                     {"type": "dense", "name": "e2", "units": 6, "activation": "relu"},
                     {"type": "dense", "name": "code", "units": 3, "activation": "relu"}],
         "decoder": [{"type": "dense", "name": "d1", "units": 6, "activation": "relu"},
                     {"type": "dense", "name": "out", "units": 12}]}
        """
    /// W2's shape in small: ReLU after convolutions and a transposed convolution.
    static let convolutional = """
        {"input_shape": [1, 8, 8], "seed": 4, "loss": "bce_with_logits",
         "encoder": [{"type": "conv2d", "name": "c1", "filters": 4, "kernel": 3, "padding": 1, "activation": "relu"},
                     {"type": "max_pool2d", "kernel": 2},
                     {"type": "conv2d", "name": "c2", "filters": 6, "kernel": 3, "padding": 1, "activation": "relu"},
                     {"type": "max_pool2d", "kernel": 2}],
         "decoder": [{"type": "conv_transpose2d", "name": "t1", "filters": 4, "kernel": 3, "stride": 2, "padding": 1,
                      "output_padding": 1, "activation": "relu"},
                     {"type": "conv_transpose2d", "name": "t2", "filters": 1, "kernel": 3, "stride": 2, "padding": 1,
                      "output_padding": 1}]}
        """
    /// A dense output read by a ReLU and by an add: the ReLU must keep its own buffers.
    static let twoReaders = """
        {"input_size": 8, "seed": 5,
         "encoder": [{"type": "dense", "name": "h", "units": 8}, {"type": "relu", "name": "r"},
                     {"type": "add", "inputs": ["h", "r"]}, {"type": "dense", "units": 3}],
         "decoder": [{"type": "dense", "units": 8}]}
        """

    func testWhichReLUsWorkInPlace() throws {
        func inPlace(_ json: String) throws -> [String] {
            let model = try Model(json: json)
            return model.graph.nodes.indices.filter { model.graph.worksInPlace[$0] }.map { model.nodeNames[$0] }
        }
        // The code's ReLU reads the code dense layer, which the model does not expose: it works in place;
        // the code itself is then that shared buffer, holding the ReLU's output.
        XCTAssertEqual(try inPlace(Self.dense), ["e1.relu", "e2.relu", "code.relu", "d1.relu"])
        XCTAssertEqual(try inPlace(Self.convolutional), ["c1.relu", "c2.relu", "t1.relu"])
        XCTAssertEqual(try inPlace(Self.twoReaders), [])
    }

    /// A forward and backward pass on shared and on separate buffers: bit for bit the same
    /// outputs, gradients and parameter gradients. What differs is only where they are: shared,
    /// a dense layer's output holds its ReLU's, and the ReLU's gradient holds the dense layer's.
    func testSharedBuffersGiveTheResultsOfSeparateOnes() throws {
        for (json, features) in [(Self.dense, 12), (Self.convolutional, 64), (Self.twoReaders, 8)] {
            let model = try Model(json: json)
            let graph = model.graph, rows = 5
            let inPlace = graph.nodes.indices.filter { graph.worksInPlace[$0] }
            let overwritten = Set(inPlace.map { graph.nodes[$0].inputs[0] })
            let x = randomValues(rows * features, 0, 1, seed: 6)
            let upstream = randomValues(rows * graph.outputSize, -1, 1, seed: 7)
            var results: [[UInt32]] = []
            for sharing in [true, false] {
                let workspace = try Workspace(graph: graph, capacity: rows, trainable: true, sharing: sharing)
                func rowsOf(_ buffers: [FloatBuffer], _ nodes: [Int]) -> [Float] {
                    nodes.flatMap { buffers[$0].array.prefix(rows * graph.nodes[$0].layer.outputSize) }
                }
                x.withUnsafeBufferPointer { model.feed(workspace, $0.baseAddress!, rows: rows) }
                var random = RandomGenerator(seed: 8)
                graph.forward(workspace, batch: rows, nodes: 0...graph.outputNode, mode: .training, random: &random)
                var values = rowsOf(workspace.activations, graph.nodes.indices.filter { !overwritten.contains($0) })
                workspace.gradients[graph.outputNode].pointer.update(from: upstream, count: upstream.count)
                model.gradients.zero()
                graph.backward(workspace, batch: rows, from: graph.outputNode)
                values += rowsOf(workspace.gradients, graph.nodes.indices.filter { !inPlace.contains($0) })
                values += model.gradients.array
                results.append(values.map(\.bitPattern))
            }
            XCTAssertEqual(results[0].count, results[1].count, json)
            XCTAssertTrue(results[0] == results[1], "\(json): \(zip(results[0], results[1]).filter { $0 != $1 }.count) values differ")
        }
    }
}
