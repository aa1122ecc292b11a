import Glibc

/// A stack of LSTM or GRU layers over batch-first sequences, PyTorch's `nn.LSTM` / `nn.GRU` with
/// `batch_first=True`: a sample is `[T, F]` row-major inside the usual `[batch, size]` rows.
///
/// Layer k (0-based) of D directions (2 when bidirectional) reads the previous layer's output
/// sequence `[T, D·H]` (forward half first), after dropout in training when `dropout` > 0 (not
/// after the last layer). The cell equations are in `LSTM.swift` and `GRU.swift`; the sweeps
/// through time and the packed-sequence rules in `RecurrentSweep.swift`.
///
/// Parameters, in PyTorch's order and layout so its weights load unchanged: for each layer k and
/// direction (suffix "" or "_reverse"): `weight_ih_l{k}` [G·H, in_k], `weight_hh_l{k}` [G·H, H],
/// `bias_ih_l{k}` [G·H], `bias_hh_l{k}` [G·H], G = 4 (LSTM: i, f, g, o) or 3 (GRU: r, z, n),
/// in_0 = F and in_k = D·H. PyTorch initialises all of them U(±1/√H): the `.pytorch`
/// initializer with fan-in H.
///
/// The output row is the concatenation of the parts in `outputs`, in this order:
/// `sequence` [T, D·H] (zero at steps past a sample's length), `last` [D·H] (the top layer's
/// final hidden state: forward direction after its last valid step, reverse after t = 0; an
/// encoder's code), `hiddenStates` [L·D·H] and `cellStates` [L·D·H] (PyTorch's h_n and c_n for
/// one sample: rows layer 0 forward, layer 0 reverse, layer 1 forward, …).
/// With an initial state, inputs 1 (h_0) and 2 (c_0, LSTM) are `[L·D·H]` in that same row order,
/// and receive their gradients.
///
/// Per batch: one GEMM for the input projection of all T steps and all samples per layer and
/// direction, one GEMM per step through time (forward and backward), and one GEMM each for
/// dW_ih, dW_hh and dx over all N·T rows. Everything lives in the scratch, sized once.
public final class Recurrent: Layer {
    public enum Cell: String, Sendable {
        case lstm, gru
        var gateCount: Int { self == .lstm ? 4 : 3 }
    }

    public struct Outputs: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let sequence = Outputs(rawValue: 1)
        public static let last = Outputs(rawValue: 2)
        public static let hiddenStates = Outputs(rawValue: 4)
        public static let cellStates = Outputs(rawValue: 8)
    }

    public enum InitialState: Sendable { case zeros, hidden, hiddenAndCell }

    public let cell: Cell
    public let steps: Int
    public let inputFeatures: Int
    public let hidden: Int
    public let layerCount: Int
    public let directions: Int
    public let outputs: Outputs
    public let initialState: InitialState
    public let dropout: Float
    public let initializer: Initializer
    public let inputShapes: [[Int]]
    public let outputShape: [Int]
    public var kind: String { cell.rawValue }

    /// Set by the graph builder when the layer reads a `repeat` node, whose backward sums the
    /// input gradient over the steps: then, with an input the same at every step (checked on the
    /// data), backward writes only that sum, Σ_t dx_t = (Σ_t ∂L/∂gi_t) · W_ih, at each sample's
    /// step 0 and zero at the others: one [N, G·H] · [G·H, F] product instead of N·T rows (a
    /// ninth of W6's multiply-adds). The per-step rows it writes are then not the per-step
    /// gradients, only their sum is: nothing but a `repeat` may read them.
    var inputGradientIsSummedOverSteps = false

    // Offsets of the output parts inside an output row (−1 when absent).
    let sequenceOffset: Int, lastOffset: Int, hiddenStatesOffset: Int, cellStatesOffset: Int

    // Bound slices, one per (layer, direction) k = layer·D + direction.
    private var weightIH: [UnsafeMutablePointer<Float>] = [], weightHH: [UnsafeMutablePointer<Float>] = []
    private var biasIH: [UnsafeMutablePointer<Float>] = [], biasHH: [UnsafeMutablePointer<Float>] = []
    private var gradWeightIH: [UnsafeMutablePointer<Float>] = [], gradWeightHH: [UnsafeMutablePointer<Float>] = []
    private var gradBiasIH: [UnsafeMutablePointer<Float>] = [], gradBiasHH: [UnsafeMutablePointer<Float>] = []

    /// - Throws: `.invalidArgument` naming the bad argument and what it must be.
    public init(cell: Cell, steps: Int, inputFeatures: Int, hidden: Int, layers: Int = 1, bidirectional: Bool = false,
                outputs: Outputs = .sequence, initialState: InitialState = .zeros, dropout: Float = 0,
                initializer: Initializer = .pytorch) throws(AutoencoderError) {
        let name = cell.rawValue
        guard steps >= 1 else { throw .invalidArgument("\(name): steps (the sequence length T) must be at least 1, got \(steps)") }
        guard inputFeatures >= 1 else { throw .invalidArgument("\(name): input features must be at least 1, got \(inputFeatures)") }
        guard hidden >= 1 else { throw .invalidArgument("\(name): hidden size must be at least 1, got \(hidden)") }
        guard layers >= 1 else { throw .invalidArgument("\(name): layers must be at least 1, got \(layers)") }
        guard dropout >= 0 && dropout < 1 else { throw .invalidArgument("\(name): dropout must be in [0, 1), got \(dropout)") }
        guard !outputs.isEmpty else { throw .invalidArgument("\(name): outputs must name at least one part") }
        if cell == .gru {
            guard !outputs.contains(.cellStates) else { throw .invalidArgument("gru: a GRU has no cell state to output") }
            guard initialState != .hiddenAndCell else { throw .invalidArgument("gru: a GRU has no cell state; its initial state is h_0 only") }
        }
        self.cell = cell
        self.steps = steps
        self.inputFeatures = inputFeatures
        self.hidden = hidden
        layerCount = layers
        directions = bidirectional ? 2 : 1
        self.outputs = outputs
        self.initialState = initialState
        self.dropout = dropout
        self.initializer = initializer
        let width = directions * hidden, states = layers * width
        var size = 0
        func part(_ option: Outputs, _ count: Int) -> Int {
            guard outputs.contains(option) else { return -1 }
            defer { size += count }
            return size
        }
        sequenceOffset = part(.sequence, steps * width)
        lastOffset = part(.last, width)
        hiddenStatesOffset = part(.hiddenStates, states)
        cellStatesOffset = part(.cellStates, states)
        outputShape = outputs == .sequence ? [steps, width] : [size]
        var shapes = [[steps, inputFeatures]]
        if initialState != .zeros { shapes.append([states]) }
        if initialState == .hiddenAndCell { shapes.append([states]) }
        inputShapes = shapes
    }

    public var isBidirectional: Bool { directions == 2 }

    /// The input width of layer k: F for the first, D·H above it.
    func layerInputWidth(_ layer: Int) -> Int { layer == 0 ? inputFeatures : directions * hidden }

    public var parameterDeclarations: [ParameterDeclaration] {
        let rows = cell.gateCount * hidden
        var declarations: [ParameterDeclaration] = []
        for layer in 0..<layerCount {
            for direction in 0..<directions {
                let suffix = "l\(layer)" + (direction == 1 ? "_reverse" : "")
                let columns = layerInputWidth(layer)
                for (name, shape, isWeight) in [("weight_ih", [rows, columns], true), ("weight_hh", [rows, hidden], true),
                                                ("bias_ih", [rows], false), ("bias_hh", [rows], false)] {
                    declarations.append(ParameterDeclaration(suffix: "\(name)_\(suffix)", shape: shape, initializer: initializer,
                                                             fanIn: hidden, fanOut: rows, isWeight: isWeight))
                }
            }
        }
        return declarations
    }

    public func bind(parameters: [UnsafeMutablePointer<Float>], gradients: [UnsafeMutablePointer<Float>]) {
        let count = layerCount * directions
        weightIH = (0..<count).map { parameters[4 * $0] }
        weightHH = (0..<count).map { parameters[4 * $0 + 1] }
        biasIH = (0..<count).map { parameters[4 * $0 + 2] }
        biasHH = (0..<count).map { parameters[4 * $0 + 3] }
        gradWeightIH = (0..<count).map { gradients[4 * $0] }
        gradWeightHH = (0..<count).map { gradients[4 * $0 + 1] }
        gradBiasIH = (0..<count).map { gradients[4 * $0 + 2] }
        gradBiasHH = (0..<count).map { gradients[4 * $0 + 3] }
    }

    public func scratchSize(batch: Int) -> Int { RecurrentScratch(self, batch: batch, base: nil).size }

    // MARK: Forward

    public func forward(_ io: LayerBuffers, mode: ForwardMode, random: inout RandomGenerator) {
        let n = io.batch, T = steps, H = hidden, D = directions
        let scratch = RecurrentScratch(self, batch: n, base: io.scratch)
        let gateWidth = cell.gateCount * H, rows = n * T
        for layer in 0..<layerCount {
            let columns = layerInputWidth(layer)
            let constant = layer == 0 && inputIsConstantInTime(io)
            if !constant { toTimeMajor(layerInput(layer, io, scratch), scratch.input, batch: n, width: columns) }
            for direction in 0..<D {
                let k = layer * D + direction
                if constant {
                    // x_t = x_0 at every step: x_0 · W_ihᵀ once per sample, [N, G·H] (in dGates, free until backward).
                    BLAS.gemm(transposeA: false, transposeB: true, m: n, n: gateWidth, k: columns,
                              alpha: 1, a: io.input, lda: T * columns, b: weightIH[k], ldb: columns, beta: 0,
                              c: scratch.dGates, ldc: gateWidth)
                } else {
                    // gates = x · W_ihᵀ, all steps at once (time-major rows, like x's copy); the cells add the biases.
                    BLAS.gemm(transposeA: false, transposeB: true, m: rows, n: gateWidth, k: columns,
                              alpha: 1, a: scratch.input, lda: columns, b: weightIH[k], ldb: columns, beta: 0,
                              c: scratch.gates(k), ldc: gateWidth)
                }
                loadInitialState(io, k, hidden: scratch.state, cell: scratch.cell)
                let sweep = makeSweep(io, scratch, layer: layer, direction: direction, dOutput: nil, dOutputStride: 0,
                                      projection: constant ? scratch.dGates : nil)
                if cell == .lstm {
                    let packing = sweep.lstmPrepareForward()
                    sweepInParts(io) { sweep.lstmForward(samples: $0, packing: packing) }
                } else {
                    sweep.gruForward()
                }
                storeFinalStates(io, scratch, layer: layer, direction: direction)
            }
            if layer < layerCount - 1 && dropout > 0 {
                applyDropout(scratch.sequence(layer), mask: scratch.mask(layer), into: scratch.dropped(layer),
                             count: rows * D * H, training: mode == .training, random: &random)
            }
        }
        if sequenceOffset >= 0 {
            let top = scratch.sequence(layerCount - 1), width = T * D * H
            for sample in 0..<n {
                (io.output + sample * outputSize + sequenceOffset).update(from: top + sample * width, count: width)
            }
        }
    }

    /// Runs a sweep through time over the batch in parts on the library's threads
    /// (`Parallel.forEachPart`): the samples are independent from the first step to the last, so
    /// each part runs the whole time loop for its own samples (its rows of every step, with
    /// single-threaded per-step GEMMs) and the threads meet once per sweep, not twice per step.
    /// With one thread, or a batch too small to share, it is `body(0..<N)`.
    private func sweepInParts(_ io: LayerBuffers, _ body: (Range<Int>) -> Void) {
        let work = io.batch * steps * cell.gateCount * hidden * hidden      // the step products' multiply-adds
        Parallel.forEachPart(count: io.batch, work: work, scratch: io.scratch) { _, samples, _ in body(samples) }
    }

    /// Inverted dropout between stacked layers, as the Dropout layer draws it (mask 0 or 1/(1 − p)).
    private func applyDropout(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, into y: UnsafeMutablePointer<Float>,
                              count: Int, training: Bool, random: inout RandomGenerator) {
        guard training else {
            mask.update(repeating: 1, count: count)
            y.update(from: x, count: count)
            return
        }
        Dropout.apply(x, mask: mask, into: y, count: count, keep: 1 - dropout, random: &random)
    }

    /// Whether every sample's input is the same at all T steps, as the repeated code that feeds the
    /// decoder of the classic LSTM autoencoder (`repeat` → `lstm`), with no lengths. Then
    /// W_ih x_t = W_ih x_0 and dW_ih = Σ_n (Σ_t ∂L/∂gi_{n,t})ᵀ x_{n,0}: the input projection and
    /// dW_ih take one row per sample instead of one per step (the same sums, in another order).
    /// Checked on the data in forward and again in backward (the layer keeps no state between
    /// calls), row against row with memcmp: equal bits are equal values, and rows that differ only
    /// by the sign of a zero take the general path, which is right too. The first differing row
    /// ends the check.
    private func inputIsConstantInTime(_ io: LayerBuffers) -> Bool {
        guard io.lengths == nil, steps > 1 else { return false }
        let F = inputFeatures, bytes = F * MemoryLayout<Float>.stride
        for n in 0..<io.batch {
            let first = io.input + n * steps * F
            for t in 1..<steps where memcmp(first + t * F, first, bytes) != 0 { return false }
        }
        return true
    }

    /// Copies a batch-first [N, T, width] sequence `x` into time-major rows `y` [T, N, width].
    private func toTimeMajor(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, batch: Int, width: Int) {
        for n in 0..<batch {
            for t in 0..<steps { (y + (t * batch + n) * width).update(from: x + (n * steps + t) * width, count: width) }
        }
    }

    /// Writes (or, when `accumulate`, adds) time-major rows `y` [T, N, width] into the batch-first `x` [N, T, width].
    private func fromTimeMajor(_ y: UnsafePointer<Float>, _ x: UnsafeMutablePointer<Float>, batch: Int, width: Int, accumulate: Bool) {
        for n in 0..<batch {
            for t in 0..<steps {
                let source = y + (t * batch + n) * width, target = x + (n * steps + t) * width
                if accumulate {
                    for j in 0..<width { target[j] += source[j] }
                } else {
                    target.update(from: source, count: width)
                }
            }
        }
    }

    /// What layer k reads: the layer's input, or the layer below's output (after dropout).
    private func layerInput(_ layer: Int, _ io: LayerBuffers, _ scratch: RecurrentScratch) -> UnsafeMutablePointer<Float> {
        if layer == 0 { return io.input }
        return dropout > 0 ? scratch.dropped(layer - 1) : scratch.sequence(layer - 1)
    }

    /// h_0 (and c_0) of (layer, direction) k for every sample: zeros, or the slice k of inputs 1 and 2.
    private func loadInitialState(_ io: LayerBuffers, _ k: Int, hidden h: UnsafeMutablePointer<Float>, cell c: UnsafeMutablePointer<Float>) {
        let H = hidden, n = io.batch, stride = layerCount * directions * H
        if initialState == .zeros {
            h.update(repeating: 0, count: n * H)
        } else {
            for sample in 0..<n { (h + sample * H).update(from: io.inputs[1] + sample * stride + k * H, count: H) }
        }
        if initialState == .hiddenAndCell {
            for sample in 0..<n { (c + sample * H).update(from: io.inputs[2] + sample * stride + k * H, count: H) }
        } else {
            c.update(repeating: 0, count: n * H)
        }
    }

    /// Copies the running state after a direction's sweep (h_n, c_n) into the output's state parts.
    private func storeFinalStates(_ io: LayerBuffers, _ scratch: RecurrentScratch, layer: Int, direction: Int) {
        let H = hidden, k = layer * directions + direction
        for sample in 0..<io.batch {
            let row = io.output + sample * outputSize, h = scratch.state + sample * H
            if lastOffset >= 0 && layer == layerCount - 1 { (row + lastOffset + direction * H).update(from: h, count: H) }
            if hiddenStatesOffset >= 0 { (row + hiddenStatesOffset + k * H).update(from: h, count: H) }
            if cellStatesOffset >= 0 { (row + cellStatesOffset + k * H).update(from: scratch.cell + sample * H, count: H) }
        }
    }

    private func makeSweep(_ io: LayerBuffers, _ scratch: RecurrentScratch, layer: Int, direction: Int,
                           dOutput: UnsafePointer<Float>?, dOutputStride: Int, projection: UnsafePointer<Float>? = nil) -> RecurrentSweep {
        let k = layer * directions + direction
        return RecurrentSweep(
            batch: io.batch, steps: steps, hidden: hidden, gateCount: cell.gateCount, reverse: direction == 1, lengths: io.lengths,
            weightHH: weightHH[k], packedWeights: scratch.packedWeights, biasIH: biasIH[k], biasHH: biasHH[k], gates: scratch.gates(k), projection: projection, aux: scratch.aux(k), tanhCell: scratch.tanhCell(k),
            sequence: scratch.sequence(layer) + direction * hidden, sequenceWidth: directions * hidden,
            state: scratch.state, cell: scratch.cell, temp: scratch.temp,
            initialHidden: scratch.initialHidden, initialCell: scratch.initialCell, previous: scratch.previous,
            dGates: scratch.dGates, dGatesHidden: scratch.dGatesHidden,
            dOutput: dOutput.map { $0 + direction * hidden }, dOutputStride: dOutputStride,
            dState: scratch.dState, dCell: scratch.dCell)
    }

    // MARK: Backward

    public func backward(_ io: LayerBuffers, accumulateInputGradient: Bool) {
        let n = io.batch, T = steps, H = hidden, D = directions
        let scratch = RecurrentScratch(self, batch: n, base: io.scratch)
        let gateWidth = cell.gateCount * H, rows = n * T
        var current = 0
        for layer in stride(from: layerCount - 1, through: 0, by: -1) {
            // ∂L/∂(this layer's output sequence): from the output row for the top, from the layer above otherwise.
            let top = layer == layerCount - 1
            let dY: UnsafePointer<Float>? = top ? (sequenceOffset >= 0 ? UnsafePointer(io.gradOutput + sequenceOffset) : nil)
                                                : UnsafePointer(scratch.dSequence(current))
            let dYStride = top ? outputSize : T * D * H
            let columns = layerInputWidth(layer)
            let constant = layer == 0 && inputIsConstantInTime(io)
            let summedInputGradient = constant && inputGradientIsSummedOverSteps
            if !constant { toTimeMajor(layerInput(layer, io, scratch), scratch.input, batch: n, width: columns) }
            let dX: UnsafeMutablePointer<Float>? = layer == 0 ? io.gradInput : scratch.dSequence(1 - current)
            let accumulateFirst = layer == 0 ? accumulateInputGradient : false
            for direction in 0..<D {
                let k = layer * D + direction
                loadInitialState(io, k, hidden: scratch.initialHidden, cell: scratch.initialCell)
                seedStateGradients(io, scratch, layer: layer, direction: direction)
                let sweep = makeSweep(io, scratch, layer: layer, direction: direction, dOutput: dY, dOutputStride: dYStride)
                sweep.buildPrevious()
                if cell == .lstm { sweepInParts(io) { sweep.lstmBackward(samples: $0) } } else { sweep.gruBackward() }
                storeInitialStateGradients(io, scratch, k)
                // dW_hh += ∂L/∂ghᵀ · h_{t−1} and dW_ih += ∂L/∂giᵀ · x over all N·T (time-major) rows; the biases take column sums.
                BLAS.gemm(transposeA: true, transposeB: false, m: gateWidth, n: H, k: rows,
                          alpha: 1, a: scratch.dGatesHidden, lda: gateWidth, b: scratch.previous, ldb: H,
                          beta: 1, c: gradWeightHH[k], ldc: H)
                if constant {
                    // Σ_t ∂L/∂gi_t per sample into temp [N, G·H], then one GEMM with x_0 over N rows.
                    let sums = scratch.temp
                    sumOverSteps(scratch.dGates, into: sums, batch: n, width: gateWidth)
                    BLAS.gemm(transposeA: true, transposeB: false, m: gateWidth, n: columns, k: n,
                              alpha: 1, a: sums, lda: gateWidth, b: io.input, ldb: T * columns,
                              beta: 1, c: gradWeightIH[k], ldc: columns)
                    if summedInputGradient, let dX {
                        // Σ_t dx_t = (Σ_t ∂L/∂gi_t) · W_ih at each sample's step 0, zero at the others.
                        let overwrite = direction == 0 && !accumulateFirst
                        if overwrite {
                            for sample in 0..<n { (dX + (sample * T + 1) * columns).update(repeating: 0, count: (T - 1) * columns) }
                        }
                        BLAS.gemm(transposeA: false, transposeB: false, m: n, n: columns, k: gateWidth,
                                  alpha: 1, a: sums, lda: gateWidth, b: weightIH[k], ldb: columns,
                                  beta: overwrite ? 0 : 1, c: dX, ldc: T * columns)
                    }
                    if cell == .lstm {
                        // Both biases' gradients: the column sums of the per-sample sums (N rows, not N·T).
                        addColumnSums(sums, rows: n, width: gateWidth, into: gradBiasIH[k])
                        addColumnSums(sums, rows: n, width: gateWidth, into: gradBiasHH[k])
                    }
                } else {
                    BLAS.gemm(transposeA: true, transposeB: false, m: gateWidth, n: columns, k: rows,
                              alpha: 1, a: scratch.dGates, lda: gateWidth, b: scratch.input, ldb: columns,
                              beta: 1, c: gradWeightIH[k], ldc: columns)
                }
                if cell == .gru {
                    addColumnSums(scratch.dGates, rows: rows, width: gateWidth, into: gradBiasIH[k])
                    addColumnSums(scratch.dGatesHidden, rows: rows, width: gateWidth, into: gradBiasHH[k])
                } else if !constant {
                    // One buffer for both: its column sums once (in temp, free after the sweep), added to both
                    // biases (with a constant input they came from the per-sample sums above).
                    let sums = scratch.temp
                    sums.update(repeating: 0, count: gateWidth)
                    addColumnSums(scratch.dGates, rows: rows, width: gateWidth, into: sums)
                    for j in 0..<gateWidth {
                        gradBiasIH[k][j] += sums[j]
                        gradBiasHH[k][j] += sums[j]
                    }
                }
                // dx = ∂L/∂gi · W_ih, time-major; the second direction adds to the first.
                if dX != nil && !summedInputGradient {
                    BLAS.gemm(transposeA: false, transposeB: false, m: rows, n: columns, k: gateWidth,
                              alpha: 1, a: scratch.dGates, lda: gateWidth, b: weightIH[k], ldb: columns,
                              beta: direction == 0 ? 0 : 1, c: scratch.dInput, ldc: columns)
                }
            }
            if let dX, !summedInputGradient { fromTimeMajor(scratch.dInput, dX, batch: n, width: columns, accumulate: accumulateFirst) }
            if layer > 0 && dropout > 0 {
                let dBelow = scratch.dSequence(1 - current), mask = scratch.mask(layer - 1)
                for i in 0..<(rows * D * H) { dBelow[i] *= mask[i] }
            }
            current = 1 - current
        }
    }

    /// ∂L/∂h_n and ∂L/∂c_n of (layer, direction) from the output row's state parts (zero without them).
    private func seedStateGradients(_ io: LayerBuffers, _ scratch: RecurrentScratch, layer: Int, direction: Int) {
        let H = hidden, k = layer * directions + direction
        scratch.dState.update(repeating: 0, count: io.batch * H)
        scratch.dCell.update(repeating: 0, count: io.batch * H)
        for sample in 0..<io.batch {
            let row = io.gradOutput + sample * outputSize, dh = scratch.dState + sample * H, dc = scratch.dCell + sample * H
            if lastOffset >= 0 && layer == layerCount - 1 {
                let g = row + lastOffset + direction * H
                for j in 0..<H { dh[j] += g[j] }
            }
            if hiddenStatesOffset >= 0 {
                let g = row + hiddenStatesOffset + k * H
                for j in 0..<H { dh[j] += g[j] }
            }
            if cellStatesOffset >= 0 { dc.update(from: row + cellStatesOffset + k * H, count: H) }
        }
    }

    /// After the sweep, the running gradients are ∂L/∂h_0 and ∂L/∂c_0: slice k of inputs 1 and 2.
    private func storeInitialStateGradients(_ io: LayerBuffers, _ scratch: RecurrentScratch, _ k: Int) {
        if io.gradInputs.count > 1 { storeStateGradient(io, input: 1, scratch.dState, k) }
        if io.gradInputs.count > 2 { storeStateGradient(io, input: 2, scratch.dCell, k) }
    }

    private func storeStateGradient(_ io: LayerBuffers, input: Int, _ source: UnsafeMutablePointer<Float>, _ k: Int) {
        guard let gradient = io.gradInputs[input] else { return }
        let H = hidden, stride = layerCount * directions * H, accumulate = io.accumulatesGradInputs[input]
        for sample in 0..<io.batch {
            let g = gradient + sample * stride + k * H, s = source + sample * H
            if accumulate {
                for j in 0..<H { g[j] += s[j] }
            } else {
                g.update(from: s, count: H)
            }
        }
    }

    /// sums[n] = Σ_t x[t, n] for time-major rows x [T, N, width].
    private func sumOverSteps(_ x: UnsafePointer<Float>, into sums: UnsafeMutablePointer<Float>, batch: Int, width: Int) {
        let count = batch * width
        sums.update(from: x, count: count)
        for t in 1..<steps {
            let block = x + t * count
            for i in 0..<count { sums[i] += block[i] }
        }
    }

    private func addColumnSums(_ x: UnsafePointer<Float>, rows: Int, width: Int, into sums: UnsafeMutablePointer<Float>) {
        for row in 0..<rows {
            let r = x + row * width
            for j in 0..<width { sums[j] += r[j] }
        }
    }
}
