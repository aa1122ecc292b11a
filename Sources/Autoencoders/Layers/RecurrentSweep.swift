import COpenBLAS

/// One direction of one recurrent layer over one batch: the sizes and the pointers into the
/// layer's scratch that a cell's forward and backward sweeps through time read and write
/// (`LSTM.swift`, `GRU.swift`). Built by `Recurrent` for each (layer, direction); holds nothing
/// between calls.
///
/// Layouts (time-major inside the sweep, row `row(n, t)` = t·N + n; batch-first like the layer's
/// output for `sequence`):
///
///     gates     [T, N, G·H]  the input projection W_ih x_t on entry (the cells add the biases); the gates after forward
///     aux       [T, N, H]    LSTM: c_t;  GRU: W_hn h_{t−1} + b_hn
///     tanhCell  [T, N, H]    LSTM: tanh(c_t), kept for backward (GRU: unused)
///     sequence  [N, T, D·H]  h_t in this direction's column block (sequence + d·H), zero past a length
///     previous  [T, N, H]    the state each step started from (backward only)
///     state, cell [N, H]     the running h and c: h_0 on entry, h_n (at each sample's last valid step) on exit
///
/// A sample n is *active* at step t when t < length(n). The forward direction processes
/// t = 0 … len−1, the reverse one t = len−1 … 0 (PyTorch's packed semantics: the reverse direction
/// starts at the sample's own last step). An inactive step leaves the running state alone, outputs
/// zero and gets a zero gradient, which is what makes both directions right for any lengths.
struct RecurrentSweep {
    let batch: Int
    let steps: Int
    let hidden: Int
    let gateCount: Int
    let reverse: Bool
    let lengths: UnsafePointer<Int32>?

    let weightHH: UnsafePointer<Float>          // [G·H, H]
    /// Room for W_hhᵀ packed once per forward sweep (`lstmPrepareForward`), aeg_packed_size(H, G·H) floats.
    let packedWeights: UnsafeMutablePointer<Float>
    let biasIH: UnsafePointer<Float>            // [G·H]
    let biasHH: UnsafePointer<Float>            // [G·H]
    let gates: UnsafeMutablePointer<Float>
    /// With an input that is the same at every step: W_ih x_0 per sample, [N, G·H], which the cells
    /// add at every step (`gates` then holds no input projection); nil otherwise.
    let projection: UnsafePointer<Float>?
    let aux: UnsafeMutablePointer<Float>
    let tanhCell: UnsafeMutablePointer<Float>
    /// This direction's block of the layer's output sequence; sample stride T·width, step stride width.
    let sequence: UnsafeMutablePointer<Float>
    let sequenceWidth: Int
    let state: UnsafeMutablePointer<Float>
    let cell: UnsafeMutablePointer<Float>
    /// [N, G·H] per step: GRU's W_hh h + b_hh in forward; dh_{t−1} from the recurrence in backward.
    let temp: UnsafeMutablePointer<Float>

    // Backward only.
    /// h_0 and c_0 of every sample, [N, H].
    let initialHidden: UnsafeMutablePointer<Float>
    let initialCell: UnsafeMutablePointer<Float>
    let previous: UnsafeMutablePointer<Float>
    /// ∂L/∂(W_ih x + b_ih), [T, N, G·H].
    let dGates: UnsafeMutablePointer<Float>
    /// ∂L/∂(W_hh h + b_hh), [T, N, G·H]: the same buffer as `dGates` for the LSTM.
    let dGatesHidden: UnsafeMutablePointer<Float>
    /// ∂L/∂h_t arriving from above (this direction's block), or nil; sample stride `dOutputStride`.
    let dOutput: UnsafePointer<Float>?
    let dOutputStride: Int
    /// The running ∂L/∂h and ∂L/∂c, [N, H]: ∂L/∂h_n on entry, ∂L/∂h_0 on exit.
    let dState: UnsafeMutablePointer<Float>
    let dCell: UnsafeMutablePointer<Float>

    /// Sample n's length, clamped into 0...T (callers validate lengths; the clamp keeps memory safe).
    @inline(__always) func length(_ n: Int) -> Int {
        guard let lengths else { return steps }
        return min(max(Int(lengths[n]), 0), steps)
    }

    /// The step processed at position s of this direction's order.
    @inline(__always) func time(_ s: Int) -> Int { reverse ? steps - 1 - s : s }

    /// Whether step t is the first one sample n processes (its state before is h_0).
    @inline(__always) func isFirst(_ t: Int, length: Int) -> Bool { reverse ? t == length - 1 : t == 0 }

    /// The step processed just before t.
    @inline(__always) func before(_ t: Int) -> Int { reverse ? t + 1 : t - 1 }

    /// The time-major row of sample n at step t in `gates`, `aux`, `tanhCell`, `previous`, `dGates`.
    @inline(__always) func row(_ n: Int, _ t: Int) -> Int { t * batch + n }

    @inline(__always) func outputRow(_ n: Int, _ t: Int) -> UnsafeMutablePointer<Float> {
        sequence + (n * steps + t) * sequenceWidth
    }

    /// The GEMM of one step (h_{t−1} · W_hhᵀ forward, da_t · W_hh backward): C[m, n] = A · op(W_hh) + beta·C
    /// over the rows of `samples` (`a` and `c` point at sample 0's row). Inside a batch split
    /// (`Recurrent.sweepInParts`) OpenBLAS runs one thread and a part's rows are one call. With
    /// several OpenBLAS threads (a sweep not split) it is issued in blocks of rows small enough
    /// (m·n·k ≤ 262,144 = SMP_THRESHOLD_MIN 65,536 × GEMM_MULTITHREAD_THRESHOLD 4, OpenBLAS's
    /// interface/gemm.c) that OpenBLAS runs each on the calling thread: a 64 × 256 × 64 product is
    /// too small to share, and waking and parking the other threads 2·T times per sequence made two
    /// threads slower than one. Blocks under 16 rows would repack W_hh too often; then the product is one call.
    func stepGEMM(transposeB: Bool, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                  beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int, samples: Range<Int>? = nil) {
        let samples = samples ?? 0..<batch
        let perThread = 262_144 / max(n * k, 1)
        let rowsPerCall = openblas_get_num_threads() > 1 && perThread >= 16 ? perThread : samples.count
        var start = samples.lowerBound
        while start < samples.upperBound {
            let rows = min(rowsPerCall, samples.upperBound - start)
            BLAS.gemm(transposeA: false, transposeB: transposeB, m: rows, n: n, k: k, alpha: 1, a: a + start * lda, lda: lda,
                      b: weightHH, ldb: hidden, beta: beta, c: c + start * ldc, ldc: ldc)
            start += rows
        }
    }

    /// Fills `previous` with the state each active step started from (h_0 or the output of the
    /// step before), zero at inactive steps: the right-hand side of dW_hh = Σ_t dGatesᵀ · h_{t−1},
    /// one GEMM over all N·T rows.
    func buildPrevious() {
        let H = hidden
        for n in 0..<batch {
            let len = length(n)
            for t in 0..<steps {
                let row = previous + self.row(n, t) * H
                if t >= len {
                    row.update(repeating: 0, count: H)
                } else if isFirst(t, length: len) {
                    row.update(from: initialHidden + n * H, count: H)
                } else {
                    row.update(from: outputRow(n, before(t)), count: H)
                }
            }
        }
    }

    /// After the recurrent GEMM of step t wrote ∂L/∂h_{t−1} into `temp`: active samples take it
    /// (plus what `dState` already holds when `adding`), the others keep their running gradient.
    func takeRecurrentGradient(_ t: Int, adding: Bool, samples: Range<Int>? = nil) {
        let H = hidden
        for n in samples ?? 0..<batch where t < length(n) {
            let dh = dState + n * H, g = temp + n * H
            if adding {
                for j in 0..<H { dh[j] += g[j] }
            } else {
                dh.update(from: g, count: H)
            }
        }
    }
}
