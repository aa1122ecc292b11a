import CGemm

/// The LSTM cell (Hochreiter & Schmidhuber 1997) as PyTorch's `nn.LSTM` computes it, gate
/// blocks in the order i, f, g, o (rows 0:H, H:2H, 2H:3H, 3H:4H of weight_ih and weight_hh):
///
///     a   = W_ih x_t + b_ih + W_hh h_{t−1} + b_hh          [4H]
///     i   = σ(a_i)   f = σ(a_f)   g = tanh(a_g)   o = σ(a_o)
///     c_t = f ⊙ c_{t−1} + i ⊙ g
///     h_t = o ⊙ tanh(c_t)
///
/// Backward through time, with dh = ∂L/∂h_t (from above plus from step t+1) and dc the running
/// ∂L/∂c_t:
///
///     dc  += dh ⊙ o ⊙ (1 − tanh²c_t)
///     da_i = dc ⊙ g ⊙ i(1 − i)        da_f = dc ⊙ c_{t−1} ⊙ f(1 − f)
///     da_g = dc ⊙ i ⊙ (1 − g²)        da_o = dh ⊙ tanh c_t ⊙ o(1 − o)
///     ∂L/∂c_{t−1} = dc ⊙ f            ∂L/∂h_{t−1} = da · W_hh
///
/// The input projection W_ih x of all T steps is one GEMM before the sweep
/// (`Recurrent`); each step adds h_{t−1} · W_hhᵀ with one GEMM over the whole batch, and backward
/// one GEMM da_t · W_hh per step. Both biases enter only as their sum, so their gradients are equal.
///
/// Forward keeps c_t (`aux`) and tanh c_t (`tanhCell`) for backward. A step's element-wise work
/// (the gate nonlinearities and the cell update, forward; the gate gradients, backward) is one
/// pass over the step's rows in CGemm's `aeg_lstm_forward` / `aeg_lstm_backward` (aelstm.h):
/// AVX-512F or AVX2 vectors chosen at run time, which the Swift code, compiled for baseline
/// x86-64, cannot use (a third of W6's time was these loops in SSE). With every sample at full
/// length (no `lengths`), h_{t−1} is read straight from the output row of the step before and
/// c_{t−1} from `aux`, so nothing is copied inside the time loop, and backward's recurrent GEMM
/// writes ∂L/∂h_{t−1} straight into the running gradient.
extension RecurrentSweep {
    /// Before the forward sweep's parts start: b_ih + b_hh into `temp` (free in an LSTM's
    /// forward), and W_hhᵀ packed once for the T step products (`packedWeights`). Returns the
    /// packing for `lstmForward` (0: none here, the steps go through `stepGEMM`).
    func lstmPrepareForward() -> Int32 {
        for j in 0..<(4 * hidden) { temp[j] = biasIH[j] + biasHH[j] }
        return BLAS.packB(transposeB: true, k: hidden, n: 4 * hidden, b: weightHH, ldb: hidden, into: packedWeights)
    }

    /// The forward sweep for the samples `samples` (all of them, or one part of a split batch:
    /// samples are independent through time), after `lstmPrepareForward`, which gave `packing`.
    func lstmForward(samples: Range<Int>, packing: Int32) {
        let H = hidden, width = 4 * H, stepStride = batch * width
        let full = lengths == nil, first = samples.lowerBound, bias = UnsafePointer(temp)
        for s in 0..<steps {
            let t = time(s)
            let stepGates = gates + t * stepStride
            // a_t += h_{t−1} · W_hhᵀ for these samples at once; h_{t−1} is the output row of the
            // step before when every sample is active, the running state otherwise.
            let fromOutput = full && s > 0
            let hPrevious = fromOutput ? UnsafePointer(outputRow(0, before(t))) : UnsafePointer(state)
            let lda = fromOutput ? steps * sequenceWidth : H, beta: Float = projection == nil ? 1 : 0
            if packing != 0 {
                BLAS.gemmPackedB(packing: packing, m: samples.count, n: width, k: H, a: hPrevious + first * lda, lda: lda,
                                 packed: packedWeights, beta: beta, c: stepGates + first * width, ldc: width)
            } else {
                stepGEMM(transposeB: true, n: width, k: H, a: hPrevious, lda: lda, beta: beta, c: stepGates, ldc: width, samples: samples)
            }
            if full {
                // All these samples in one call: their rows of this step are contiguous (time-major).
                let cPrevious = s == 0 ? UnsafePointer(cell + first * H) : UnsafePointer(aux + row(first, before(t)) * H)
                aeg_lstm_forward(samples.count, H, stepGates + first * width, width, projection.map { $0 + first * width }, width,
                                 bias, cPrevious, H, aux + row(first, t) * H, tanhCell + row(first, t) * H, H,
                                 outputRow(first, t), steps * sequenceWidth)
                continue
            }
            for n in samples {
                let len = length(n)
                let y = outputRow(n, t), offset = row(n, t) * H
                guard t < len else {
                    y.update(repeating: 0, count: H)
                    (aux + offset).update(repeating: 0, count: H)
                    (tanhCell + offset).update(repeating: 0, count: H)
                    continue
                }
                let cPrevious = isFirst(t, length: len) ? cell + n * H : aux + row(n, before(t)) * H
                aeg_lstm_forward(1, H, stepGates + n * width, width, projection.map { $0 + n * width }, width, bias,
                                 cPrevious, H, aux + offset, tanhCell + offset, H, y, H)
                (state + n * H).update(from: y, count: H)
            }
        }
        // The running state after the sweep: h and c of each sample's last valid step (h_0, c_0 without one).
        for n in samples {
            let len = length(n)
            guard len > 0 else { continue }
            let last = reverse ? 0 : len - 1
            (cell + n * H).update(from: aux + row(n, last) * H, count: H)
            if full { (state + n * H).update(from: outputRow(n, last), count: H) }
        }
    }

    /// The backward sweep for the samples `samples` (all, or one part of a split batch).
    func lstmBackward(samples: Range<Int>) {
        let H = hidden, width = 4 * H, stepStride = batch * width
        let full = lengths == nil, first = samples.lowerBound
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = time(s)
            let stepGradients = dGates + t * stepStride
            if full {
                // All these samples in one call; s = 0 is the step every sample started from h_0, c_0.
                let cPrevious = s == 0 ? UnsafePointer(initialCell + first * H) : UnsafePointer(aux + row(first, before(t)) * H)
                aeg_lstm_backward(samples.count, H, gates + row(first, t) * width, width, tanhCell + row(first, t) * H, H,
                                  cPrevious, H, dOutput.map { $0 + first * dOutputStride + t * sequenceWidth }, dOutputStride,
                                  dState + first * H, H, dCell + first * H, H, stepGradients + first * width, width)
            } else {
                for n in samples {
                    let da = stepGradients + n * width
                    let len = length(n)
                    guard t < len else {
                        da.update(repeating: 0, count: width)
                        continue
                    }
                    let offset = row(n, t) * H
                    let cPrevious = isFirst(t, length: len) ? initialCell + n * H : aux + row(n, before(t)) * H
                    aeg_lstm_backward(1, H, gates + row(n, t) * width, width, tanhCell + offset, H, cPrevious, H,
                                      dOutput.map { $0 + n * dOutputStride + t * sequenceWidth }, dOutputStride,
                                      dState + n * H, H, dCell + n * H, H, da, width)
                }
            }
            // ∂L/∂h_{t−1} = da_t · W_hh for these samples: straight into the running gradient when
            // every sample is active; otherwise through temp, inactive samples keeping theirs.
            stepGEMM(transposeB: false, n: H, k: width, a: stepGradients, lda: width, beta: 0, c: full ? dState : temp, ldc: H,
                     samples: samples)
            if !full { takeRecurrentGradient(t, adding: false, samples: samples) }
        }
    }
}

/// The instruction set of the cell's element-wise step (CGemm's aelstm.h): "avx512", "avx2" or
/// "scalar", the widest this CPU and OS run.
enum LSTMCellKernel {
    static var instructionSet: String { String(cString: aeg_lstm_instruction_set()) }

    /// For the tests: runs the step in `name` from now on; false (nothing changed) when the name is
    /// unknown or this CPU or OS lacks it.
    static func select(_ name: String) -> Bool { aeg_lstm_select(name) == 0 }
}
