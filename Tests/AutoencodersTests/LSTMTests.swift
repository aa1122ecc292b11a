import XCTest
@testable import Autoencoders

/// The LSTM (Layers/LSTM.swift through Layers/Recurrent.swift): PyTorch golden values for one
/// layer, two bidirectional layers, a given initial state and packed variable lengths (both
/// directions), then finite differences for every option.
final class LSTMTests: XCTestCase {
    // MARK: PyTorch golden values

    func testOneLayerMatchesPyTorch() throws { try assertRecurrentMatchesFixture("lstm_1layer", cell: .lstm) }

    func testTwoBidirectionalLayersMatchPyTorch() throws { try assertRecurrentMatchesFixture("lstm_2layer_bidirectional", cell: .lstm) }

    func testInitialStateMatchesPyTorch() throws { try assertRecurrentMatchesFixture("lstm_initial_state", cell: .lstm) }

    /// Packed sequences: outputs past a length are exactly 0, h_n is taken at the last valid step,
    /// and the padded inputs get exactly zero gradient.
    func testPackedLengthsMatchPyTorch() throws {
        for name in ["lstm_packed_lengths", "lstm_packed_lengths_bidirectional"] {
            let (y, gx) = try assertRecurrentMatchesFixture(name, cell: .lstm)
            let lengths = try Fixtures.integers(name, "lengths"), shape = try Fixtures.shape(name, "y")
            let (steps, width, features) = (shape[1], shape[2], try Fixtures.shape(name, "x")[2])
            for (n, length) in lengths.enumerated() {
                for t in length..<steps {
                    XCTAssertTrue(y[((n * steps + t) * width)..<((n * steps + t + 1) * width)].allSatisfy { $0 == 0 }, "\(name): y[\(n), \(t)]")
                    XCTAssertTrue(gx[((n * steps + t) * features)..<((n * steps + t + 1) * features)].allSatisfy { $0 == 0 },
                                  "\(name): gx[\(n), \(t)]")
                }
            }
        }
    }

    /// `last` is the top layer's h_n (forward then reverse): for the reverse direction with
    /// lengths that is its output at t = 0, for the forward one its output at the last valid step.
    func testLastStateIsTheTopLayersFinalHidden() throws {
        let lengths: [Int32] = [5, 3, 1]
        let both = try Recurrent(cell: .lstm, steps: 5, inputFeatures: 3, hidden: 4, layers: 2, bidirectional: true,
                                 outputs: [.sequence, .last, .hiddenStates])
        let runner = try SequenceRunner(both, batch: 3)
        setRandomParameters(runner, seed: 5)
        runner.lengths = lengths
        let out = runner.forward([randomValues(3 * 15, -1, 1, seed: 6)])
        let row = both.outputSize, H = 4
        for n in 0..<3 {
            let y = Array(out[(n * row)..<(n * row + 40)])
            let last = Array(out[(n * row + 40)..<(n * row + 48)])
            let states = Array(out[(n * row + 48)..<(n * row + 64)])
            let t = Int(lengths[n]) - 1
            XCTAssertEqual(Array(last[0..<H]), Array(y[(t * 8)..<(t * 8 + H)]), "forward half at the last valid step, sample \(n)")
            XCTAssertEqual(Array(last[H..<(2 * H)]), Array(y[H..<(2 * H)]), "reverse half at t = 0, sample \(n)")
            XCTAssertEqual(last, Array(states[(2 * H)..<(4 * H)]), "last = h_n rows of layer 1, sample \(n)")
        }
    }

    // MARK: Finite differences

    func testGradientsMatchFiniteDifferences() throws {
        let cases: [(String, Recurrent, [Int32]?)] = [
            ("one layer, sequence", try Recurrent(cell: .lstm, steps: 4, inputFeatures: 3, hidden: 5), nil),
            ("last state", try Recurrent(cell: .lstm, steps: 5, inputFeatures: 2, hidden: 3, outputs: .last), nil),
            ("2 layers bidirectional, all outputs",
             try Recurrent(cell: .lstm, steps: 4, inputFeatures: 3, hidden: 3, layers: 2, bidirectional: true,
                           outputs: [.sequence, .last, .hiddenStates, .cellStates]), nil),
            ("lengths, bidirectional", try Recurrent(cell: .lstm, steps: 5, inputFeatures: 2, hidden: 3, bidirectional: true,
                                                     outputs: [.sequence, .last, .cellStates]), [5, 2, 3]),
            ("lengths, 2 layers", try Recurrent(cell: .lstm, steps: 4, inputFeatures: 2, hidden: 3, layers: 2,
                                                outputs: [.sequence, .hiddenStates]), [1, 4, 3]),
        ]
        for (index, (name, layer, lengths)) in cases.enumerated() {
            let runner = try SequenceRunner(layer, batch: 3)
            runner.lengths = lengths
            runner.checkGradients("lstm \(name)", inputs: [randomValues(3 * layer.inputSize, -1, 1, seed: UInt64(10 + index))],
                                  seed: UInt64(20 + index))
        }
    }

    func testInitialStateGradients() throws {
        let layer = try Recurrent(cell: .lstm, steps: 4, inputFeatures: 3, hidden: 3, layers: 2, bidirectional: true,
                                  outputs: [.sequence, .hiddenStates, .cellStates], initialState: .hiddenAndCell)
        let runner = try SequenceRunner(layer, batch: 2)
        runner.lengths = [4, 2]
        let xs = layer.inputShapes.enumerated().map { randomValues(2 * $1.reduce(1, *), -1, 1, seed: UInt64(30 + $0)) }
        runner.checkGradients("lstm initial state", inputs: xs, seed: 40)

        let hiddenOnly = try Recurrent(cell: .lstm, steps: 3, inputFeatures: 2, hidden: 4, outputs: .last, initialState: .hidden)
        let hiddenRunner = try SequenceRunner(hiddenOnly, batch: 2)
        hiddenRunner.checkGradients("lstm h_0 only", inputs: [randomValues(12, -1, 1, seed: 41), randomValues(8, -1, 1, seed: 42)], seed: 43)
    }

    /// Dropout between stacked layers draws from the generator in training mode; with the same
    /// seed the mask is fixed, so the gradient is that of a fixed function.
    func testDropoutBetweenLayers() throws {
        let layer = try Recurrent(cell: .lstm, steps: 4, inputFeatures: 3, hidden: 4, layers: 3, outputs: [.sequence, .last], dropout: 0.4)
        let runner = try SequenceRunner(layer, batch: 3)
        runner.mode = .training
        runner.checkGradients("lstm dropout", inputs: [randomValues(36, -1, 1, seed: 50)], seed: 51)

        // Training with another seed differs; inference ignores dropout (equal to a dropout-free stack).
        let x = randomValues(36, -1, 1, seed: 52)
        let first = runner.forward([x])
        runner.seed = 2
        XCTAssertNotEqual(runner.forward([x]), first)
        runner.mode = .inference
        let plain = try SequenceRunner(try Recurrent(cell: .lstm, steps: 4, inputFeatures: 3, hidden: 4, layers: 3, outputs: [.sequence, .last]), batch: 3)
        for index in runner.parameters.indices { plain.parameters[index].set(runner.parameters[index].array) }
        XCTAssertEqual(runner.forward([x]), plain.forward([x]))
    }

    // MARK: Batching and accumulation

    func testBatchRowsEqualSingleSamples() throws {
        try assertBatchEqualsSingleSamples(batch: 4) {
            try Recurrent(cell: .lstm, steps: 5, inputFeatures: 3, hidden: 4, layers: 2, bidirectional: true, outputs: [.sequence, .last])
        }
    }

    /// With two OpenBLAS threads the per-step products are issued in blocks of 16 rows
    /// (`RecurrentSweep.stepGEMM`, H = 64): a batch of 40 (blocks of 16, 16 and 8) gives what one
    /// thread gives, forward and backward, for both cells and both directions.
    func testPerStepProductsInRowBlocksMatchOneThread() throws {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        for cell in [Recurrent.Cell.lstm, .gru] {
            func run(threads: Int) throws -> [[Float]] {
                BLAS.threadCount = threads
                let layer = try Recurrent(cell: cell, steps: 3, inputFeatures: 4, hidden: 64, bidirectional: true, outputs: [.sequence, .last])
                let runner = try LayerRunner(layer, batch: 40)
                setRandomParameters(runner, seed: 90)
                let x = randomValues(40 * layer.inputSize, -1, 1, seed: 91), gy = randomValues(40 * layer.outputSize, -1, 1, seed: 92)
                return [runner.forward(x), runner.backward(gy)] + runner.gradients.map(\.array)
            }
            let one = try run(threads: 1), two = try run(threads: 2)
            for (index, values) in one.enumerated() {
                assertClose(two[index], values, relative: 1e-5, "\(cell): output, input gradient, parameter gradients [\(index)]")
            }
        }
    }

    /// At two threads the LSTM's sweeps run the batch in two parts (`Recurrent.sweepInParts`):
    /// with per-sample lengths (the per-sample path) and without, both directions, what one
    /// thread gives.
    func testSweepInPartsMatchesOneThread() throws {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        let batch = 10
        let lengths: [Int32] = (0..<batch).map { Int32(1 + $0 % 5) }
        for sampleLengths in [nil, lengths] {
            func run(threads: Int) throws -> [[Float]] {
                BLAS.threadCount = threads
                XCTAssertEqual(Parallel.parts(count: batch, work: batch * 5 * 4 * 40 * 40), threads, "parts of the batch")
                let layer = try Recurrent(cell: .lstm, steps: 5, inputFeatures: 4, hidden: 40, bidirectional: true, outputs: [.sequence, .last])
                let runner = try SequenceRunner(layer, batch: batch)
                setRandomParameters(runner, seed: 103)
                runner.lengths = sampleLengths
                let y = runner.forward([randomValues(batch * layer.inputSize, -1, 1, seed: 104)])
                return [y] + runner.backward(randomValues(batch * layer.outputSize, -1, 1, seed: 105)) + runner.gradients.map(\.array)
            }
            let one = try run(threads: 1), two = try run(threads: 2)
            for (index, values) in one.enumerated() {
                assertClose(two[index], values, relative: 1e-5, "lengths \(sampleLengths != nil) [\(index)]")
            }
        }
    }

    /// An input that is the same at every step (a repeated code) takes the one-row-per-sample
    /// input projection and dW_ih (`Recurrent.inputIsConstantInTime`); lengths of T for every
    /// sample take the general path. Both must agree: outputs, input gradient, parameter gradients,
    /// for both cells, two layers, both directions, with an initial state.
    func testInputConstantInTimeMatchesTheGeneralPath() throws {
        let batch = 3, T = 4, F = 5
        var code = randomValues(batch * F, -1, 1, seed: 93), x = [Float]()
        for n in 0..<batch { for _ in 0..<T { x += code[(n * F)..<((n + 1) * F)] } }
        code = []
        for cell in [Recurrent.Cell.lstm, .gru] {
            func run(lengths: [Int32]?) throws -> [[Float]] {
                let layer = try Recurrent(cell: cell, steps: T, inputFeatures: F, hidden: 6, layers: 2, bidirectional: true,
                                          outputs: [.sequence, .last], initialState: .hidden)
                let runner = try SequenceRunner(layer, batch: batch)
                setRandomParameters(runner, seed: 94)
                runner.lengths = lengths
                let h0 = randomValues(batch * layer.inputShapes[1].reduce(1, *), -1, 1, seed: 95)
                let y = runner.forward([x, h0])
                let gradients = runner.backward(randomValues(batch * layer.outputSize, -1, 1, seed: 96))
                return [y] + gradients + runner.gradients.map(\.array)
            }
            let constant = try run(lengths: nil), general = try run(lengths: Array(repeating: Int32(T), count: batch))
            for (index, values) in general.enumerated() {
                assertClose(constant[index], values, relative: 1e-5, "\(cell): output, input gradients, parameter gradients [\(index)]")
            }
        }
    }

    /// Reading a `repeat` node (`Recurrent.inputGradientIsSummedOverSteps`, set by the graph
    /// builder) with an input constant in time: backward writes Σ_t dx_t at step 0 and zero at the
    /// other steps. Outputs and parameter gradients are those of the plain layer and so is each
    /// sample's Σ_t dx_t, overwriting and accumulating, for both cells and both directions.
    func testSummedInputGradientOfARepeatedInput() throws {
        let batch = 3, T = 4, F = 5
        let code = randomValues(batch * F, -1, 1, seed: 97)
        var x = [Float]()
        for n in 0..<batch { for _ in 0..<T { x += code[(n * F)..<((n + 1) * F)] } }
        func stepSums(_ gx: [Float]) -> [Float] {
            (0..<(batch * F)).map { i in (0..<T).reduce(Float(0)) { $0 + gx[((i / F) * T + $1) * F + i % F] } }
        }
        for cell in [Recurrent.Cell.lstm, .gru] {
            func run(summed: Bool) throws -> (gx: [Float], accumulated: [Float], rest: [[Float]]) {
                let layer = try Recurrent(cell: cell, steps: T, inputFeatures: F, hidden: 6, layers: 2, bidirectional: true,
                                          outputs: [.sequence, .last])
                layer.inputGradientIsSummedOverSteps = summed
                let runner = try LayerRunner(layer, batch: batch)
                setRandomParameters(runner, seed: 98)
                let y = runner.forward(x), gy = randomValues(batch * layer.outputSize, -1, 1, seed: 99)
                let gx = runner.backward(gy)
                let parameters = runner.gradients.map(\.array)
                runner.gradInput.set(x)
                let accumulated = runner.backward(gy, accumulate: true)
                return (gx, accumulated, [y] + parameters)
            }
            let summed = try run(summed: true), plain = try run(summed: false)
            for (index, values) in plain.rest.enumerated() {
                assertClose(summed.rest[index], values, relative: 1e-5, "\(cell): output and parameter gradients [\(index)]")
            }
            assertClose(stepSums(summed.gx), stepSums(plain.gx), relative: 1e-5, "\(cell): Σ_t dx_t")
            assertClose(stepSums(summed.accumulated), stepSums(plain.accumulated), relative: 1e-5, "\(cell): Σ_t dx_t accumulated")
            for n in 0..<batch {
                XCTAssertTrue(summed.gx[((n * T + 1) * F)..<((n + 1) * T * F)].allSatisfy { $0 == 0 }, "\(cell): steps 1… of sample \(n) are zero")
            }
        }
    }

    /// The cell's element-wise step in each instruction set this CPU runs (CGemm's
    /// `aeg_lstm_forward` / `aeg_lstm_backward`: AVX-512F, AVX2 + FMA, scalar C), with a hidden
    /// size that leaves a partial vector (21 = 16 + 5 = 2·8 + 5), with and without lengths:
    /// every set gives what scalar C gives, and PyTorch's values.
    func testEveryInstructionSetOfTheCell() throws {
        let saved = LSTMCellKernel.instructionSet
        defer { _ = LSTMCellKernel.select(saved) }
        func run(_ set: String) throws -> [[Float]]? {
            guard LSTMCellKernel.select(set) else { return nil }
            var results: [[Float]] = []
            for lengths in [nil, [4, 2, 3] as [Int32]] {
                let layer = try Recurrent(cell: .lstm, steps: 4, inputFeatures: 3, hidden: 21, bidirectional: true, outputs: [.sequence, .last])
                let runner = try SequenceRunner(layer, batch: 3)
                setRandomParameters(runner, seed: 100)
                runner.lengths = lengths
                results.append(runner.forward([randomValues(3 * layer.inputSize, -3, 3, seed: 101)]))
                results += runner.backward(randomValues(3 * layer.outputSize, -1, 1, seed: 102))
                results += runner.gradients.map(\.array)
            }
            _ = try assertRecurrentMatchesFixture("lstm_1layer", cell: .lstm)
            _ = try assertRecurrentMatchesFixture("lstm_packed_lengths", cell: .lstm)
            return results
        }
        let reference = try XCTUnwrap(try run("scalar"))
        for set in ["avx2", "avx512"] {
            guard let results = try run(set) else { continue }
            for (index, values) in reference.enumerated() {
                assertClose(results[index], values, relative: 1e-5, "\(set) against scalar C [\(index)]")
            }
        }
    }

    func testAccumulateSemantics() throws {
        for batch in [1, 3] {
            try assertAccumulateSemantics(try Recurrent(cell: .lstm, steps: 3, inputFeatures: 2, hidden: 3, bidirectional: true), batch: batch)
        }
        try assertParameterGradientsWithoutInputGradient(try Recurrent(cell: .lstm, steps: 3, inputFeatures: 2, hidden: 3, layers: 2), batch: 3)
    }

    func testRefusesBadConfigurations() {
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .lstm, steps: 0, inputFeatures: 2, hidden: 3) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .lstm, steps: 2, inputFeatures: 0, hidden: 3) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .lstm, steps: 2, inputFeatures: 2, hidden: 0) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .lstm, steps: 2, inputFeatures: 2, hidden: 3, layers: 0) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .lstm, steps: 2, inputFeatures: 2, hidden: 3, dropout: 1) }
        assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .lstm, steps: 2, inputFeatures: 2, hidden: 3, outputs: []) }
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try Recurrent(cell: .gru, steps: 2, inputFeatures: 2, hidden: 3, outputs: .cellStates) }
        XCTAssertEqual(error?.message.contains("cell state"), true)
    }

    func testParameterNamesAndShapesArePyTorchs() throws {
        let layer = try Recurrent(cell: .lstm, steps: 2, inputFeatures: 3, hidden: 5, layers: 2, bidirectional: true)
        XCTAssertEqual(layer.parameterDeclarations.map(\.suffix), [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"])
        XCTAssertEqual(layer.parameterDeclarations[0].shape, [20, 3])
        XCTAssertEqual(layer.parameterDeclarations[8].shape, [20, 10])
        XCTAssertEqual(layer.parameterDeclarations[9].shape, [20, 5])
        XCTAssertTrue(layer.parameterDeclarations.allSatisfy { $0.initializer == .pytorch && $0.fanIn == 5 })
        XCTAssertEqual(layer.outputShape, [2, 10])
    }
}

// MARK: - Shared with GRUTests

/// Runs a fixture's LSTM/GRU case: parameters by PyTorch name, the initial state and lengths when
/// the case has them; checks y, h_n (and c_n), then feeds gy, gh_n (and gc_n) together and checks
/// gx (gh0, gc0) and every parameter gradient at the manifest's tolerances. Returns y and gx.
@discardableResult
func assertRecurrentMatchesFixture(_ name: String, cell: Recurrent.Cell,
                                   file: StaticString = #filePath, line: UInt = #line) throws -> (y: [Float], gx: [Float]) {
    let h = try Fixtures.hyperparameters(name)
    guard let features = h["input_size"]?.intValue, let hidden = h["hidden_size"]?.intValue, let layers = h["num_layers"]?.intValue,
          let bidirectional = h["bidirectional"]?.boolValue, let batch = h["batch"]?.intValue, let steps = h["seq_len"]?.intValue else {
        throw Fixtures.Missing(description: "\(name): hyperparameters incomplete")
    }
    let files = try Fixtures.manifestCase(name)["files"]?.arrayValue?.compactMap { $0.objectValue?["file"]?.stringValue } ?? []
    let hasInitialState = files.contains("h0.npy"), hasCell = cell == .lstm
    let stacks = layers * (bidirectional ? 2 : 1)
    let layer = try Recurrent(cell: cell, steps: steps, inputFeatures: features, hidden: hidden, layers: layers, bidirectional: bidirectional,
                              outputs: hasCell ? [.sequence, .hiddenStates, .cellStates] : [.sequence, .hiddenStates],
                              initialState: hasInitialState ? .hiddenAndCell : .zeros)
    let runner = try SequenceRunner(layer, batch: batch)
    for (index, declaration) in layer.parameterDeclarations.enumerated() {
        runner.parameters[index].set(try Fixtures.values(name, declaration.suffix))
    }
    if files.contains("lengths.npy") { runner.lengths = try Fixtures.integers(name, "lengths").map { Int32($0) } }
    var inputs = [try Fixtures.values(name, "x")]
    if hasInitialState {
        inputs.append(stateRows(try Fixtures.values(name, "h0"), stacks: stacks, batch: batch, hidden: hidden))
        inputs.append(stateRows(try Fixtures.values(name, "c0"), stacks: stacks, batch: batch, hidden: hidden))
    }
    let output = runner.forward(inputs)

    // Split each output row into y, h_n and c_n; build the upstream rows the same way.
    let sequenceSize = steps * layer.directions * hidden, stateSize = stacks * hidden
    func part(_ values: [Float], _ offset: Int, _ count: Int) -> [Float] {
        (0..<batch).flatMap { n in values[(n * layer.outputSize + offset)..<(n * layer.outputSize + offset + count)] }
    }
    let y = part(output, 0, sequenceSize)
    try Fixtures.assertGolden(y, name, "y", file: file, line: line)
    try Fixtures.assertGolden(stateTensor(part(output, sequenceSize, stateSize), stacks: stacks, batch: batch, hidden: hidden),
                              name, "h_n", file: file, line: line)
    if hasCell {
        try Fixtures.assertGolden(stateTensor(part(output, sequenceSize + stateSize, stateSize), stacks: stacks, batch: batch, hidden: hidden),
                                  name, "c_n", file: file, line: line)
    }
    let gy = try Fixtures.values(name, "gy")
    let ghn = stateRows(try Fixtures.values(name, "gh_n"), stacks: stacks, batch: batch, hidden: hidden)
    let gcn = files.contains("gc_n.npy") ? stateRows(try Fixtures.values(name, "gc_n"), stacks: stacks, batch: batch, hidden: hidden)
                                         : [Float](repeating: 0, count: batch * stateSize)
    var upstream: [Float] = []
    for n in 0..<batch {
        upstream += gy[(n * sequenceSize)..<((n + 1) * sequenceSize)]
        upstream += ghn[(n * stateSize)..<((n + 1) * stateSize)]
        if hasCell { upstream += gcn[(n * stateSize)..<((n + 1) * stateSize)] }
    }
    let gradients = runner.backward(upstream)
    try Fixtures.assertGolden(gradients[0], name, "gx", file: file, line: line)
    if hasInitialState {
        try Fixtures.assertGolden(stateTensor(gradients[1], stacks: stacks, batch: batch, hidden: hidden), name, "gh0", file: file, line: line)
        try Fixtures.assertGolden(stateTensor(gradients[2], stacks: stacks, batch: batch, hidden: hidden), name, "gc0", file: file, line: line)
    }
    for (index, declaration) in layer.parameterDeclarations.enumerated() {
        try Fixtures.assertGolden(runner.gradients[index].array, name, "g" + declaration.suffix, file: file, line: line)
    }
    return (y, gradients[0])
}

/// Random parameters (uniform ±0.8) for every declaration of a sequence runner's layer.
@discardableResult
func setRandomParameters(_ runner: SequenceRunner, seed: UInt64) -> [[Float]] {
    runner.layer.parameterDeclarations.enumerated().map { index, declaration in
        let values = randomValues(declaration.shape.reduce(1, *), -0.8, 0.8, seed: seed + UInt64(index))
        runner.parameters[index].set(values)
        return values
    }
}
