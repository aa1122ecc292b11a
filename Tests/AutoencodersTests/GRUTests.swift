import XCTest
@testable import Autoencoders

/// The GRU (Layers/GRU.swift through Layers/Recurrent.swift): PyTorch golden values (with b_hn
/// inside the reset product), then finite differences for every option the LSTM tests cover.
final class GRUTests: XCTestCase {
    func testOneLayerMatchesPyTorch() throws {
        try assertRecurrentMatchesFixture("gru_1layer", cell: .gru)
        // b_ih and b_hh share their r and z rows' gradient but not the n rows' (b_hn is inside r ⊙ (·)).
        let gih = try Fixtures.values("gru_1layer", "gbias_ih_l0"), ghh = try Fixtures.values("gru_1layer", "gbias_hh_l0")
        XCTAssertGreaterThan(zip(gih[12...], ghh[12...]).map { abs($0 - $1) }.max() ?? 0, 0.1)
    }

    func testGradientsMatchFiniteDifferences() throws {
        let cases: [(String, Recurrent, [Int32]?)] = [
            ("one layer, sequence", try Recurrent(cell: .gru, steps: 4, inputFeatures: 3, hidden: 5), nil),
            ("last state", try Recurrent(cell: .gru, steps: 5, inputFeatures: 2, hidden: 3, outputs: .last), nil),
            ("2 layers bidirectional, all outputs",
             try Recurrent(cell: .gru, steps: 4, inputFeatures: 3, hidden: 3, layers: 2, bidirectional: true,
                           outputs: [.sequence, .last, .hiddenStates]), nil),
            ("lengths, bidirectional", try Recurrent(cell: .gru, steps: 5, inputFeatures: 2, hidden: 3, bidirectional: true,
                                                     outputs: [.sequence, .last]), [5, 2, 3]),
            ("lengths, 2 layers", try Recurrent(cell: .gru, steps: 4, inputFeatures: 2, hidden: 3, layers: 2,
                                                outputs: [.sequence, .hiddenStates]), [1, 4, 3]),
        ]
        for (index, (name, layer, lengths)) in cases.enumerated() {
            let runner = try SequenceRunner(layer, batch: 3)
            runner.lengths = lengths
            runner.checkGradients("gru \(name)", inputs: [randomValues(3 * layer.inputSize, -1, 1, seed: UInt64(10 + index))],
                                  seed: UInt64(20 + index))
        }
    }

    func testInitialStateAndDropout() throws {
        let layer = try Recurrent(cell: .gru, steps: 4, inputFeatures: 3, hidden: 3, layers: 2, bidirectional: true,
                                  outputs: [.sequence, .hiddenStates], initialState: .hidden, dropout: 0.3)
        let runner = try SequenceRunner(layer, batch: 2)
        runner.lengths = [2, 4]
        runner.mode = .training
        let xs = layer.inputShapes.enumerated().map { randomValues(2 * $1.reduce(1, *), -1, 1, seed: UInt64(30 + $0)) }
        runner.checkGradients("gru initial state, dropout", inputs: xs, seed: 40)
    }

    /// Packed lengths: zero outputs and zero input gradients at padded steps, h_n at the last valid step.
    func testLengths() throws {
        let layer = try Recurrent(cell: .gru, steps: 5, inputFeatures: 2, hidden: 3, outputs: [.sequence, .last])
        let runner = try SequenceRunner(layer, batch: 2)
        setRandomParameters(runner, seed: 60)
        runner.lengths = [3, 5]
        let x = randomValues(20, -1, 1, seed: 61)
        let out = runner.forward([x])
        let gx = runner.backward(randomValues(2 * layer.outputSize, -1, 1, seed: 62))[0]
        XCTAssertTrue(out[9..<15].allSatisfy { $0 == 0 }, "outputs at t = 3, 4 of sample 0")
        XCTAssertEqual(Array(out[15..<18]), Array(out[6..<9]), "last = h at t = 2")
        XCTAssertTrue(gx[6..<10].allSatisfy { $0 == 0 }, "gx at padded steps")
        // The padded steps' inputs do not matter.
        var changed = x
        for i in 6..<10 { changed[i] = 100 }
        XCTAssertEqual(runner.forward([changed]), out)
    }

    func testBatchRowsAndAccumulation() throws {
        try assertBatchEqualsSingleSamples(batch: 4) {
            try Recurrent(cell: .gru, steps: 5, inputFeatures: 3, hidden: 4, layers: 2, bidirectional: true, outputs: [.sequence, .last])
        }
        try assertAccumulateSemantics(try Recurrent(cell: .gru, steps: 3, inputFeatures: 2, hidden: 3, bidirectional: true), batch: 3)
        try assertParameterGradientsWithoutInputGradient(try Recurrent(cell: .gru, steps: 3, inputFeatures: 2, hidden: 3, layers: 2), batch: 3)
    }
}
