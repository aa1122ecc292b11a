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
/// is one pass over each sample's H units in `Lanes` (8 at a time): the loops store through
/// several pointers, which the compiler would not vectorise on its own. With every sample at full
/// length (no `lengths`), h_{t−1} is read straight from the output row of the step before and
/// c_{t−1} from `aux`, so nothing is copied inside the time loop, and backward's recurrent GEMM
/// writes ∂L/∂h_{t−1} straight into the running gradient.
extension RecurrentSweep {
    func lstmForward() {
        let H = hidden, width = 4 * H, stepStride = batch * width
        let full = lengths == nil
        for s in 0..<steps {
            let t = time(s)
            let stepGates = gates + t * stepStride
            // a_t += h_{t−1} · W_hhᵀ for every sample of the batch at once; h_{t−1} is the output
            // row of the step before when every sample is active, the running state otherwise.
            let fromOutput = full && s > 0
            let hPrevious = fromOutput ? UnsafePointer(outputRow(0, before(t))) : UnsafePointer(state)
            stepGEMM(transposeB: true, n: width, k: H, a: hPrevious, lda: fromOutput ? steps * sequenceWidth : H,
                     beta: projection == nil ? 1 : 0, c: stepGates, ldc: width)
            for n in 0..<batch {
                let len = length(n)
                let y = outputRow(n, t), offset = row(n, t) * H
                guard t < len else {
                    y.update(repeating: 0, count: H)
                    (aux + offset).update(repeating: 0, count: H)
                    (tanhCell + offset).update(repeating: 0, count: H)
                    continue
                }
                let cPrevious = isFirst(t, length: len) ? cell + n * H : aux + row(n, before(t)) * H
                lstmCellForward(stepGates + n * width, projection: projection.map { $0 + n * width }, cPrevious: cPrevious,
                                c: aux + offset, tanhC: tanhCell + offset, h: y)
                if !full { (state + n * H).update(from: y, count: H) }
            }
        }
        // The running state after the sweep: h and c of each sample's last valid step (h_0, c_0 without one).
        for n in 0..<batch {
            let len = length(n)
            guard len > 0 else { continue }
            let last = reverse ? 0 : len - 1
            (cell + n * H).update(from: aux + row(n, last) * H, count: H)
            if full { (state + n * H).update(from: outputRow(n, last), count: H) }
        }
    }

    /// One sample's step: `a` [4H] (W_ih x_t + W_hh h_{t−1}, or W_hh h_{t−1} alone with a
    /// `projection` W_ih x_0; the biases are added here) becomes the gates i, f, g, o in place;
    /// c_t, tanh c_t and h_t are written to `c`, `tanhC` and `h`.
    @inline(__always)
    private func lstmCellForward(_ a: UnsafeMutablePointer<Float>, projection: UnsafePointer<Float>?, cPrevious: UnsafePointer<Float>,
                                 c: UnsafeMutablePointer<Float>, tanhC: UnsafeMutablePointer<Float>, h: UnsafeMutablePointer<Float>) {
        let H = hidden
        var j = 0
        while j < H {
            let m = min(Lanes.scalarCount, H - j)
            // a (+ W_ih x_0) + b_ih + b_hh, gate by gate.
            @inline(__always) func input(_ gate: Int) -> Lanes {
                let offset = gate * H + j
                let sum = loadLanes(a + offset, m) + loadLanes(biasIH + offset, m) + loadLanes(biasHH + offset, m)
                guard let projection else { return sum }
                return sum + loadLanes(projection + offset, m)
            }
            let i = sigmoid(input(0)), f = sigmoid(input(1)), g = fastTanh(input(2)), o = sigmoid(input(3))
            let ct = f * loadLanes(cPrevious + j, m) + i * g
            let tc = fastTanh(ct)
            storeLanes(i, a + j, m)
            storeLanes(f, a + H + j, m)
            storeLanes(g, a + 2 * H + j, m)
            storeLanes(o, a + 3 * H + j, m)
            storeLanes(ct, c + j, m)
            storeLanes(tc, tanhC + j, m)
            storeLanes(o * tc, h + j, m)
            j += Lanes.scalarCount
        }
    }

    func lstmBackward() {
        let H = hidden, width = 4 * H, stepStride = batch * width
        let full = lengths == nil
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = time(s)
            let stepGradients = dGates + t * stepStride
            for n in 0..<batch {
                let da = stepGradients + n * width
                let len = length(n)
                guard t < len else {
                    da.update(repeating: 0, count: width)
                    continue
                }
                let offset = row(n, t) * H
                let cPrevious = isFirst(t, length: len) ? initialCell + n * H : aux + row(n, before(t)) * H
                lstmCellBackward(gates + row(n, t) * width, tanhC: tanhCell + offset, cPrevious: cPrevious,
                                 dOutput: dOutput.map { $0 + n * dOutputStride + t * sequenceWidth },
                                 dh: dState + n * H, dc: dCell + n * H, da: da)
            }
            // ∂L/∂h_{t−1} = da_t · W_hh for the whole batch: straight into the running gradient when
            // every sample is active; otherwise through temp, inactive samples keeping theirs.
            stepGEMM(transposeB: false, n: H, k: width, a: stepGradients, lda: width, beta: 0, c: full ? dState : temp, ldc: H)
            if !full { takeRecurrentGradient(t, adding: false) }
        }
    }

    /// One sample's step backward: with dh = `dh` (+ `dOutput`) and dc = `dc`, writes the four gate
    /// gradients to `da` [4H] and ∂L/∂c_{t−1} to `dc` (the caller replaces `dh` by da · W_hh).
    @inline(__always)
    private func lstmCellBackward(_ a: UnsafePointer<Float>, tanhC: UnsafePointer<Float>, cPrevious: UnsafePointer<Float>,
                                  dOutput: UnsafePointer<Float>?, dh dhIn: UnsafePointer<Float>,
                                  dc dcInOut: UnsafeMutablePointer<Float>, da: UnsafeMutablePointer<Float>) {
        let H = hidden
        var j = 0
        while j < H {
            let m = min(Lanes.scalarCount, H - j)
            let i = loadLanes(a + j, m), f = loadLanes(a + H + j, m)
            let g = loadLanes(a + 2 * H + j, m), o = loadLanes(a + 3 * H + j, m)
            let tc = loadLanes(tanhC + j, m)
            var dh = loadLanes(dhIn + j, m)
            if let dOutput { dh += loadLanes(dOutput + j, m) }
            let dc = loadLanes(dcInOut + j, m) + dh * o * (1 - tc * tc)
            storeLanes(dc * g * i * (1 - i), da + j, m)
            storeLanes(dc * loadLanes(cPrevious + j, m) * f * (1 - f), da + H + j, m)
            storeLanes(dc * i * (1 - g * g), da + 2 * H + j, m)
            storeLanes(dh * tc * o * (1 - o), da + 3 * H + j, m)
            storeLanes(dc * f, dcInOut + j, m)
            j += Lanes.scalarCount
        }
    }
}
