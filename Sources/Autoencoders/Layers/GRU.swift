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
        let H = hidden, width = 3 * H
        for s in 0..<steps {
            let t = time(s)
            // gh = W_hh h_{t−1} + b_hh for the whole batch, into temp.
            for n in 0..<batch { (temp + n * width).update(from: biasHH, count: width) }
            stepGEMM(transposeB: true, n: width, k: H, a: state, lda: H, beta: 1, c: temp, ldc: width)
            for n in 0..<batch {
                let y = outputRow(n, t), hn = aux + row(n, t) * H
                guard t < length(n) else {
                    y.update(repeating: 0, count: H)
                    hn.update(repeating: 0, count: H)
                    continue
                }
                gruCellForward(gates + row(n, t) * width, projection: projection.map { $0 + n * width }, gh: temp + n * width,
                               h: state + n * H, y: y, hn: hn)
            }
        }
    }

    /// One sample's step: gi [3H] (W_ih x_t, or unused with a `projection` W_ih x_0; b_ih is added
    /// here) becomes r, z, n in place; h_t goes to `h`
    /// (the running state, h_{t−1} on entry) and `y`, W_hn h_{t−1} + b_hn to `hn`. In `Lanes`.
    @inline(__always)
    private func gruCellForward(_ gi: UnsafeMutablePointer<Float>, projection: UnsafePointer<Float>?, gh: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                y: UnsafeMutablePointer<Float>, hn: UnsafeMutablePointer<Float>) {
        let H = hidden
        var j = 0
        while j < H {
            let m = min(Lanes.scalarCount, H - j)
            // W_ih x_t (from gi, or the `projection` W_ih x_0) + b_ih.
            @inline(__always) func input(_ gate: Int) -> Lanes {
                loadLanes((projection ?? UnsafePointer(gi)) + gate * H + j, m) + loadLanes(biasIH + gate * H + j, m)
            }
            let r = sigmoid(input(0) + loadLanes(gh + j, m))
            let z = sigmoid(input(1) + loadLanes(gh + H + j, m))
            let a = loadLanes(gh + 2 * H + j, m)
            let candidate = fastTanh(input(2) + r * a)
            let ht = (1 - z) * candidate + z * loadLanes(h + j, m)
            storeLanes(r, gi + j, m)
            storeLanes(z, gi + H + j, m)
            storeLanes(candidate, gi + 2 * H + j, m)
            storeLanes(a, hn + j, m)
            storeLanes(ht, h + j, m)
            storeLanes(ht, y + j, m)
            j += Lanes.scalarCount
        }
    }

    /// Needs `previous` (h_{t−1} of every step) built first.
    func gruBackward() {
        let H = hidden, width = 3 * H, stepStride = batch * width
        for s in stride(from: steps - 1, through: 0, by: -1) {
            let t = time(s)
            let stepInput = dGates + t * stepStride, stepHidden = dGatesHidden + t * stepStride
            for n in 0..<batch {
                let dgi = stepInput + n * width, dgh = stepHidden + n * width
                guard t < length(n) else {
                    dgi.update(repeating: 0, count: width)
                    dgh.update(repeating: 0, count: width)
                    continue
                }
                gruCellBackward(gates + row(n, t) * width, hn: aux + row(n, t) * H,
                                hPrevious: previous + row(n, t) * H,
                                dOutput: dOutput.map { $0 + n * dOutputStride + t * sequenceWidth },
                                dh: dState + n * H, dgi: dgi, dgh: dgh)
            }
            // ∂L/∂h_{t−1} = dh ⊙ z (already in dState) + ∂L/∂gh · W_hh: added straight into the running
            // gradient when every sample is active; otherwise through temp, inactive samples keeping theirs.
            let full = lengths == nil
            stepGEMM(transposeB: false, n: H, k: width, a: stepHidden, lda: width, beta: full ? 1 : 0, c: full ? dState : temp, ldc: H)
            if !full { takeRecurrentGradient(t, adding: true) }
        }
    }

    /// One sample's step backward: with d = `dh` (+ `dOutput`), writes ∂L/∂gi and ∂L/∂gh [3H] and
    /// leaves d ⊙ z in `dh` (the recurrent GEMM adds the rest of ∂L/∂h_{t−1}). In `Lanes`.
    @inline(__always)
    private func gruCellBackward(_ g: UnsafePointer<Float>, hn: UnsafePointer<Float>, hPrevious: UnsafePointer<Float>,
                                 dOutput: UnsafePointer<Float>?, dh: UnsafeMutablePointer<Float>,
                                 dgi: UnsafeMutablePointer<Float>, dgh: UnsafeMutablePointer<Float>) {
        let H = hidden
        var j = 0
        while j < H {
            let m = min(Lanes.scalarCount, H - j)
            let r = loadLanes(g + j, m), z = loadLanes(g + H + j, m), candidate = loadLanes(g + 2 * H + j, m)
            var d = loadLanes(dh + j, m)
            if let dOutput { d += loadLanes(dOutput + j, m) }
            let dn = d * (1 - z) * (1 - candidate * candidate)
            let dr = dn * loadLanes(hn + j, m) * r * (1 - r)
            let dz = d * (loadLanes(hPrevious + j, m) - candidate) * z * (1 - z)
            storeLanes(dr, dgi + j, m)
            storeLanes(dz, dgi + H + j, m)
            storeLanes(dn, dgi + 2 * H + j, m)
            storeLanes(dr, dgh + j, m)
            storeLanes(dz, dgh + H + j, m)
            storeLanes(dn * r, dgh + 2 * H + j, m)
            storeLanes(d * z, dh + j, m)
            j += Lanes.scalarCount
        }
    }
}
