import CGemm

/// How a `Recurrent` layer carves its scratch for a batch of N: forward state kept for backward
/// (per layer and direction the gates and the LSTM cells and their tanh, or GRU's W_hn h + b_hn; per layer its
/// output sequence and, with dropout, its mask and dropped copy), then buffers that backward
/// reuses for every layer and direction in turn. Pure offset arithmetic: carving allocates
/// nothing, so a training step stays allocation-free.
///
/// The per-step buffers (gates, cells, previous states, gate gradients) are *time-major*, row
/// t·N + n for sample n at step t: the rows a step touches are one contiguous block, which the
/// per-step GEMMs read and write with a unit leading dimension and the gate loops stream through
/// (sample-major rows T·G·H floats apart defeat the hardware prefetcher). The layer's input and
/// output stay batch-first; `input` and `dInput` hold a time-major copy of a layer's input and
/// its gradient, so that the input projection and dW_ih, dx stay one GEMM each over all N·T rows.
struct RecurrentScratch {
    let base: UnsafeMutablePointer<Float>
    let size: Int
    private let gateBlock: Int, auxBlock: Int, sequenceBlock: Int, stateBlock: Int, tempBlock: Int, inputBlock: Int, packedBlock: Int
    private let stacks: Int, layers: Int, hasDropout: Bool, isGRU: Bool
    private let auxStart: Int, tanhCellStart: Int, sequenceStart: Int, maskStart: Int, droppedStart: Int, sharedStart: Int

    /// With `base` nil it only measures (`size`); no pointer is formed from it then.
    init(_ layer: Recurrent, batch n: Int, base: UnsafeMutablePointer<Float>?) {
        let T = layer.steps, H = layer.hidden, D = layer.directions, G = layer.cell.gateCount
        self.base = base ?? UnsafeMutablePointer<Float>(bitPattern: 64)!
        gateBlock = n * T * G * H
        auxBlock = n * T * H
        sequenceBlock = n * T * D * H
        stateBlock = n * H
        tempBlock = n * G * H
        inputBlock = n * T * max(layer.inputFeatures, D * H)
        layers = layer.layerCount
        stacks = layer.layerCount * D
        hasDropout = layer.dropout > 0 && layer.layerCount > 1
        isGRU = layer.cell == .gru
        auxStart = stacks * gateBlock
        tanhCellStart = auxStart + stacks * auxBlock
        sequenceStart = tanhCellStart + (isGRU ? 0 : stacks * auxBlock)
        maskStart = sequenceStart + layers * sequenceBlock
        droppedStart = maskStart + (hasDropout ? (layers - 1) * sequenceBlock : 0)
        sharedStart = droppedStart + (hasDropout ? (layers - 1) * sequenceBlock : 0)
        // Shared: 6 [N, H] states, temp [N, G·H], previous [T, N, H], dGates (+ GRU's dGatesHidden),
        // two dSequences, the time-major input and its gradient, W_hhᵀ packed for the step products.
        packedBlock = aeg_packed_size(H, G * H)
        size = sharedStart + 6 * stateBlock + tempBlock + auxBlock + (isGRU ? 2 : 1) * gateBlock
            + (layers > 1 ? 2 * sequenceBlock : 0) + 2 * inputBlock + packedBlock
    }

    /// Per (layer, direction) k: [T, N, G·H].
    func gates(_ k: Int) -> UnsafeMutablePointer<Float> { base + k * gateBlock }
    /// Per (layer, direction) k: [T, N, H].
    func aux(_ k: Int) -> UnsafeMutablePointer<Float> { base + auxStart + k * auxBlock }
    /// Per (layer, direction) k, LSTM only: tanh(c_t), [T, N, H] (the GRU gets `aux`, unused).
    func tanhCell(_ k: Int) -> UnsafeMutablePointer<Float> { isGRU ? aux(k) : base + tanhCellStart + k * auxBlock }
    /// Per layer: its output sequence [N, T, D·H].
    func sequence(_ layer: Int) -> UnsafeMutablePointer<Float> { base + sequenceStart + layer * sequenceBlock }
    /// Per layer but the last, with dropout: the mask and the next layer's input, [N, T, D·H].
    func mask(_ layer: Int) -> UnsafeMutablePointer<Float> { base + maskStart + layer * sequenceBlock }
    func dropped(_ layer: Int) -> UnsafeMutablePointer<Float> { base + droppedStart + layer * sequenceBlock }

    private func shared(_ offset: Int) -> UnsafeMutablePointer<Float> { base + sharedStart + offset }
    /// Running h and c, [N, H].
    var state: UnsafeMutablePointer<Float> { shared(0) }
    var cell: UnsafeMutablePointer<Float> { shared(stateBlock) }
    /// h_0 and c_0 for backward, [N, H].
    var initialHidden: UnsafeMutablePointer<Float> { shared(2 * stateBlock) }
    var initialCell: UnsafeMutablePointer<Float> { shared(3 * stateBlock) }
    /// Running ∂L/∂h and ∂L/∂c, [N, H].
    var dState: UnsafeMutablePointer<Float> { shared(4 * stateBlock) }
    var dCell: UnsafeMutablePointer<Float> { shared(5 * stateBlock) }
    /// [N, G·H] per step.
    var temp: UnsafeMutablePointer<Float> { shared(6 * stateBlock) }
    private var afterTemp: Int { 6 * stateBlock + tempBlock }
    /// The state each step started from, [T, N, H].
    var previous: UnsafeMutablePointer<Float> { shared(afterTemp) }
    /// ∂L/∂gi and (GRU) ∂L/∂gh, [T, N, G·H]; the same buffer for the LSTM.
    var dGates: UnsafeMutablePointer<Float> { shared(afterTemp + auxBlock) }
    var dGatesHidden: UnsafeMutablePointer<Float> { isGRU ? shared(afterTemp + auxBlock + gateBlock) : dGates }
    /// Two [N, T, D·H] buffers, stacked layers only: ∂L/∂ of a layer's output, in turn.
    func dSequence(_ index: Int) -> UnsafeMutablePointer<Float> {
        shared(afterTemp + auxBlock + (isGRU ? 2 : 1) * gateBlock + index * sequenceBlock)
    }
    private var afterSequences: Int { afterTemp + auxBlock + (isGRU ? 2 : 1) * gateBlock + (layers > 1 ? 2 * sequenceBlock : 0) }
    /// A layer's input, time-major: [T, N, in_k].
    var input: UnsafeMutablePointer<Float> { shared(afterSequences) }
    /// ∂L/∂(a layer's input), time-major: [T, N, in_k].
    var dInput: UnsafeMutablePointer<Float> { shared(afterSequences + inputBlock) }
    /// W_hhᵀ [H, G·H] in CGemm's packed micro-panels (aeg_pack_b), for a forward sweep's step products.
    var packedWeights: UnsafeMutablePointer<Float> { shared(afterSequences + 2 * inputBlock) }
}
