// The LSTM cell step written once over a vector of VN floats (internal to CGemm), included by
// lstm_cell.c for each instruction set between lanes_isa.h, which defines the vocabulary (V, VN,
// VLOAD, VFMA, ...), and lanes_end.h. Besides it, the includer defines AEG_TAIL_FORWARD and
// AEG_TAIL_BACKWARD: the scalar functions that finish a row past its last whole vector.
// The formulas are FastMath.exp, sigmoid and fastTanh (Tensor/FastMath.swift, Tensor/Lanes.swift).

// e^x, x clamped to [-87, 88]: 2^k p(r), r = x - k ln 2 (in two parts), p the degree-6 Taylor polynomial.
AEG_TARGET static inline V AEG_NAME(lane_exp)(V x) {
    V low = VSET1(-87.0f), high = VSET1(88.0f), magic = VSET1(12582912.0f);
    V clamped = VLESS(x, low, low, x);
    clamped = VLESS(high, clamped, high, clamped);
    V shifted = VFMA(clamped, VSET1(1.442695040888963f), magic);
    V k = VSUB(shifted, magic);
    V r = VFMA(k, VSET1(-1.428606765330187e-06f), VFMA(k, VSET1(-0.693145751953125f), clamped));
    V p = VSET1(1.0f / 720);
    p = VFMA(p, r, VSET1(1.0f / 120));
    p = VFMA(p, r, VSET1(1.0f / 24));
    p = VFMA(p, r, VSET1(1.0f / 6));
    p = VFMA(p, r, VSET1(0.5f));
    p = VFMA(p, r, VSET1(1.0f));
    p = VFMA(p, r, VSET1(1.0f));
    return VMUL(p, VPOW2(shifted));
}

// 1 / (1 + e^-x) from e = e^-|x|: 1 / (1 + e) for x >= 0, e / (1 + e) below (no overflow).
AEG_TARGET static inline V AEG_NAME(lane_sigmoid)(V x) {
    V e = AEG_NAME(lane_exp)(VSUB(VSET1(0.0f), VABS(x)));
    V p = VDIV(VSET1(1.0f), VADD(VSET1(1.0f), e));
    return VLESS(x, VSET1(0.0f), VMUL(e, p), p);
}

// tanh x = (1 - e) / (1 + e) with e = e^-2|x|, the odd Taylor polynomial below |x| = 1/8, the sign of x.
AEG_TARGET static inline V AEG_NAME(lane_tanh)(V x) {
    V a = VABS(x);
    V e = AEG_NAME(lane_exp)(VMUL(VSET1(-2.0f), a));
    V t = VDIV(VSUB(VSET1(1.0f), e), VADD(VSET1(1.0f), e));
    V x2 = VMUL(a, a);
    V q = VFMA(x2, VSET1(-17.0f / 315), VSET1(2.0f / 15));
    q = VFMA(x2, q, VSET1(-1.0f / 3));
    q = VFMA(x2, q, VSET1(1.0f));
    t = VLESS(a, VSET1(0.125f), VMUL(a, q), t);
    return VLESS(x, VSET1(0.0f), VSUB(VSET1(0.0f), t), t);
}

// One sample's forward step (aelstm.h), units j0 ..< H in whole vectors; returns the first unit not done.
AEG_TARGET static inline long AEG_NAME(forward_row)(long H, long j0, float *a, const float *projection, const float *bias,
                                                     const float *c_prev, float *c, float *tanh_c, float *h) {
    long j = j0;
    for (; j + VN <= H; j += VN) {
        V ai = VADD(VLOAD(a + j), VLOAD(bias + j)), af = VADD(VLOAD(a + H + j), VLOAD(bias + H + j));
        V ag = VADD(VLOAD(a + 2 * H + j), VLOAD(bias + 2 * H + j)), ao = VADD(VLOAD(a + 3 * H + j), VLOAD(bias + 3 * H + j));
        if (projection) {
            ai = VADD(ai, VLOAD(projection + j));
            af = VADD(af, VLOAD(projection + H + j));
            ag = VADD(ag, VLOAD(projection + 2 * H + j));
            ao = VADD(ao, VLOAD(projection + 3 * H + j));
        }
        V i = AEG_NAME(lane_sigmoid)(ai), f = AEG_NAME(lane_sigmoid)(af);
        V g = AEG_NAME(lane_tanh)(ag), o = AEG_NAME(lane_sigmoid)(ao);
        V ct = VFMA(f, VLOAD(c_prev + j), VMUL(i, g));
        V tc = AEG_NAME(lane_tanh)(ct);
        VSTORE(a + j, i);
        VSTORE(a + H + j, f);
        VSTORE(a + 2 * H + j, g);
        VSTORE(a + 3 * H + j, o);
        VSTORE(c + j, ct);
        VSTORE(tanh_c + j, tc);
        VSTORE(h + j, VMUL(o, tc));
    }
    return j;
}

// One sample's backward step (aelstm.h), units j0 ..< H in whole vectors; returns the first unit not done.
AEG_TARGET static inline long AEG_NAME(backward_row)(long H, long j0, const float *a, const float *tanh_c,
                                                      const float *c_prev, const float *d_output, const float *dh_in,
                                                      float *dc_io, float *da) {
    long j = j0;
    V one = VSET1(1.0f);
    for (; j + VN <= H; j += VN) {
        V i = VLOAD(a + j), f = VLOAD(a + H + j), g = VLOAD(a + 2 * H + j), o = VLOAD(a + 3 * H + j);
        V tc = VLOAD(tanh_c + j);
        V dh = VLOAD(dh_in + j);
        if (d_output) dh = VADD(dh, VLOAD(d_output + j));
        V dc = VADD(VLOAD(dc_io + j), VMUL(VMUL(dh, o), VSUB(one, VMUL(tc, tc))));
        VSTORE(da + j, VMUL(VMUL(dc, g), VMUL(i, VSUB(one, i))));
        VSTORE(da + H + j, VMUL(VMUL(dc, VLOAD(c_prev + j)), VMUL(f, VSUB(one, f))));
        VSTORE(da + 2 * H + j, VMUL(VMUL(dc, i), VSUB(one, VMUL(g, g))));
        VSTORE(da + 3 * H + j, VMUL(VMUL(dh, tc), VMUL(o, VSUB(one, o))));
        VSTORE(dc_io + j, VMUL(dc, f));
    }
    return j;
}

AEG_TARGET static void AEG_NAME(aeg_lstm_forward)(long count, long H, float *gates, long gates_stride,
                                                  const float *projection, long projection_stride, const float *bias,
                                                  const float *c_prev, long c_prev_stride, float *c, float *tanh_c,
                                                  long cell_stride, float *h, long h_stride) {
    for (long s = 0; s < count; s++) {
        float *a = gates + s * gates_stride;
        const float *p = projection ? projection + s * projection_stride : 0;
        const float *cp = c_prev + s * c_prev_stride;
        float *cs = c + s * cell_stride, *ts = tanh_c + s * cell_stride, *hs = h + s * h_stride;
        long j = AEG_NAME(forward_row)(H, 0, a, p, bias, cp, cs, ts, hs);
        if (j < H) AEG_TAIL_FORWARD(H, j, a, p, bias, cp, cs, ts, hs);
    }
}

AEG_TARGET static void AEG_NAME(aeg_lstm_backward)(long count, long H, const float *gates, long gates_stride,
                                                   const float *tanh_c, long tanh_c_stride, const float *c_prev,
                                                   long c_prev_stride, const float *d_output, long d_output_stride,
                                                   const float *dh, long dh_stride, float *dc, long dc_stride,
                                                   float *da, long da_stride) {
    for (long s = 0; s < count; s++) {
        const float *a = gates + s * gates_stride, *tc = tanh_c + s * tanh_c_stride, *cp = c_prev + s * c_prev_stride;
        const float *dout = d_output ? d_output + s * d_output_stride : 0, *dhs = dh + s * dh_stride;
        float *dcs = dc + s * dc_stride, *das = da + s * da_stride;
        long j = AEG_NAME(backward_row)(H, 0, a, tc, cp, dout, dhs, dcs, das);
        if (j < H) AEG_TAIL_BACKWARD(H, j, a, tc, cp, dout, dhs, dcs, das);
    }
}
