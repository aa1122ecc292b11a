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
/// The input projection W_ih x + b_ih + b_hh of all T steps is one GEMM before the sweep
/// (`Recurrent`); each step adds h_{t−1} · W_hhᵀ with one GEMM over the whole batch, and backward
/// one GEMM da_t · W_hh per step. Both biases enter only as their sum, so their gradients are equal.
extension RecurrentSweep {
    func lstmForward() {
        let H = hidden, width = 4 * H, rowStride = steps * width
        for s in 0..<steps {
            let t = time(s)
            let stepGates = gates + t * width
            // a_t += h_{t−1} · W_hhᵀ for every sample of the batch at once.
            BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: width, k: H,
                      alpha: 1, a: state, lda: H, b: weightHH, ldb: H, beta: 1, c: stepGates, ldc: rowStride)
            for n in 0..<batch {
                let y = outputRow(n, t), c = aux + (n * steps + t) * H
                guard t < length(n) else {
                    y.update(repeating: 0, count: H)
                    c.update(repeating: 0, count: H)
                    continue
                }
                let a = stepGates + n * rowStride, h = state + n * H, cs = cell + n * H
                // The gates in place, each a contiguous run (loops the compiler vectorises): σ on i and f, tanh on g, σ on o.
                let g = a + 2 * H, o = a + 3 * H
                for j in 0..<(2 * H) { a[j] = sigmoid(a[j]) }
                for j in 0..<H { g[j] = fastTanh(g[j]) }
                for j in 0..<H { o[j] = sigmoid(o[j]) }
                for j in 0..<H { c[j] = a[H + j] * cs[j] + a[j] * g[j] }
                cs.update(from: c, count: H)
                for j in 0..<H { h[j] = o[j] * fastTanh(c[j]) }
                y.update(from: h, count: H)
            }
        }
    }

    func lstmBackward() {
        let H = hidden, width = 4 * H, rowStride = steps * width
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = time(s)
            let stepGradients = dGates + t * width
            for n in 0..<batch {
                let da = stepGradients + n * rowStride
                let len = length(n)
                guard t < len else {
                    da.update(repeating: 0, count: width)
                    continue
                }
                let dh = dState + n * H, dc = dCell + n * H
                if let dOutput {
                    let dy = dOutput + n * dOutputStride + t * sequenceWidth
                    for j in 0..<H { dh[j] += dy[j] }
                }
                let a = gates + (n * steps + t) * width, c = aux + (n * steps + t) * H
                let cPrevious = isFirst(t, length: len) ? initialCell + n * H : aux + (n * steps + before(t)) * H
                for j in 0..<H {
                    let i = a[j], f = a[H + j], g = a[2 * H + j], o = a[3 * H + j]
                    let tc = fastTanh(c[j])
                    let dcj = dc[j] + dh[j] * o * (1 - tc * tc)
                    da[j] = dcj * g * i * (1 - i)
                    da[H + j] = dcj * cPrevious[j] * f * (1 - f)
                    da[2 * H + j] = dcj * i * (1 - g * g)
                    da[3 * H + j] = dh[j] * tc * o * (1 - o)
                    dc[j] = dcj * f
                }
            }
            // ∂L/∂h_{t−1} = da_t · W_hh for the whole batch; inactive samples keep their running gradient.
            BLAS.gemm(transposeA: false, transposeB: false, m: batch, n: H, k: width,
                      alpha: 1, a: stepGradients, lda: rowStride, b: weightHH, ldb: H, beta: 0, c: temp, ldc: H)
            takeRecurrentGradient(t, adding: false)
        }
    }
}
