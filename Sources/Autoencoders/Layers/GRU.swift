/// The GRU cell (Cho et al. 2014) as PyTorch's `nn.GRU` computes it, gate blocks in the order
/// r, z, n (rows 0:H, H:2H, 2H:3H of weight_ih and weight_hh):
///
///     gi = W_ih x_t + b_ih      gh = W_hh h_{t−1} + b_hh          [3H] each
///     r  = σ(gi_r + gh_r)       z = σ(gi_z + gh_z)
///     n  = tanh(gi_n + r ⊙ gh_n)        (b_hn sits inside the reset product, b_in does not)
///     h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}
///
/// Backward through time, with dh = ∂L/∂h_t:
///
///     dn_pre = dh ⊙ (1 − z) ⊙ (1 − n²)
///     dr_pre = dn_pre ⊙ gh_n ⊙ r(1 − r)       dz_pre = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z)
///     ∂L/∂gi = [dr_pre, dz_pre, dn_pre]       ∂L/∂gh = [dr_pre, dz_pre, dn_pre ⊙ r]
///     ∂L/∂h_{t−1} = dh ⊙ z + ∂L/∂gh · W_hh
///
/// So b_ih and b_hh get equal gradients on the r and z rows and different ones on the n rows.
/// As for the LSTM, gi of all T steps is one GEMM before the sweep, and each step is one GEMM
/// over the whole batch forward and one backward.
extension RecurrentSweep {
    func gruForward() {
        let H = hidden, width = 3 * H, rowStride = steps * width
        for s in 0..<steps {
            let t = time(s)
            // gh = W_hh h_{t−1} + b_hh for the whole batch, into temp.
            for n in 0..<batch { (temp + n * width).update(from: biasHH, count: width) }
            BLAS.gemm(transposeA: false, transposeB: true, m: batch, n: width, k: H,
                      alpha: 1, a: state, lda: H, b: weightHH, ldb: H, beta: 1, c: temp, ldc: width)
            for n in 0..<batch {
                let y = outputRow(n, t), hn = aux + (n * steps + t) * H
                guard t < length(n) else {
                    y.update(repeating: 0, count: H)
                    hn.update(repeating: 0, count: H)
                    continue
                }
                let gi = gates + n * rowStride + t * width, gh = temp + n * width, h = state + n * H
                for j in 0..<H {
                    let r = sigmoid(gi[j] + gh[j]), z = sigmoid(gi[H + j] + gh[H + j])
                    let a = gh[2 * H + j]
                    let candidate = fastTanh(gi[2 * H + j] + r * a)
                    let ht = (1 - z) * candidate + z * h[j]
                    gi[j] = r
                    gi[H + j] = z
                    gi[2 * H + j] = candidate
                    hn[j] = a
                    h[j] = ht
                    y[j] = ht
                }
            }
        }
    }

    /// Needs `previous` (h_{t−1} of every step) built first.
    func gruBackward() {
        let H = hidden, width = 3 * H, rowStride = steps * width
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = time(s)
            let stepInput = dGates + t * width, stepHidden = dGatesHidden + t * width
            for n in 0..<batch {
                let dgi = stepInput + n * rowStride, dgh = stepHidden + n * rowStride
                guard t < length(n) else {
                    dgi.update(repeating: 0, count: width)
                    dgh.update(repeating: 0, count: width)
                    continue
                }
                let dh = dState + n * H
                if let dOutput {
                    let dy = dOutput + n * dOutputStride + t * sequenceWidth
                    for j in 0..<H { dh[j] += dy[j] }
                }
                let g = gates + (n * steps + t) * width, hn = aux + (n * steps + t) * H
                let hPrevious = previous + (n * steps + t) * H
                for j in 0..<H {
                    let r = g[j], z = g[H + j], candidate = g[2 * H + j]
                    let d = dh[j]
                    let dn = d * (1 - z) * (1 - candidate * candidate)
                    let dr = dn * hn[j] * r * (1 - r)
                    let dz = d * (hPrevious[j] - candidate) * z * (1 - z)
                    dgi[j] = dr
                    dgi[H + j] = dz
                    dgi[2 * H + j] = dn
                    dgh[j] = dr
                    dgh[H + j] = dz
                    dgh[2 * H + j] = dn * r
                    dh[j] = d * z
                }
            }
            // ∂L/∂h_{t−1} = dh ⊙ z (already in dState) + ∂L/∂gh · W_hh.
            BLAS.gemm(transposeA: false, transposeB: false, m: batch, n: H, k: width,
                      alpha: 1, a: stepHidden, lda: rowStride, b: weightHH, ldb: H, beta: 0, c: temp, ldc: H)
            takeRecurrentGradient(t, adding: true)
        }
    }
}
