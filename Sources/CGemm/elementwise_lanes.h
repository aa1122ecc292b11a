// The training step's element-wise passes (aeelementwise.h) written once over a vector of VN
// floats (internal to CGemm), included by elementwise.c for each instruction set between
// lanes_isa.h and lanes_end.h. The scalar instance comes first: the vector instances finish a
// range past its last whole vector with it. No VFMA here: every operation rounds as the Swift
// formulas' separate multiplies and adds do (elementwise.c also turns off contraction), so every
// instance gives the same bits.

AEG_TARGET static void AEG_NAME(adam)(long count, float *p, float *grad, float *m, float *v, float beta1, float beta2,
                                      float epsilon, float step_size, float inverse_bias_correction2,
                                      float coupled_decay, float shrink) {
    V b1 = VSET1(beta1), b2 = VSET1(beta2), c1 = VSET1(1.0f - beta1), c2 = VSET1(1.0f - beta2);
    V eps = VSET1(epsilon), step = VSET1(step_size), correction = VSET1(inverse_bias_correction2);
    V decay = VSET1(coupled_decay), keep = VSET1(shrink), zero = VSET1(0.0f);
    long i = 0;
    for (; i + VN <= count; i += VN) {
        V pi = VLOAD(p + i);
        V g = VADD(VLOAD(grad + i), VMUL(decay, pi));
        VSTORE(grad + i, zero);
        V mi = VADD(VMUL(b1, VLOAD(m + i)), VMUL(c1, g));
        V vi = VADD(VMUL(b2, VLOAD(v + i)), VMUL(VMUL(c2, g), g));
        VSTORE(m + i, mi);
        VSTORE(v + i, vi);
        VSTORE(p + i, VSUB(VMUL(pi, keep), VDIV(VMUL(step, mi), VADD(VMUL(VSQRT(vi), correction), eps))));
    }
    if (i < count)
        adam_scalar(count - i, p + i, grad + i, m + i, v + i, beta1, beta2, epsilon, step_size,
                    inverse_bias_correction2, coupled_decay, shrink);
}

// FastMath.exp: e^x for x in [-87, 88] (clamped outside; NaN passes through), 2^k p(r) with p the
// degree-6 Taylor polynomial, r = x - k ln 2 in two parts.
AEG_TARGET static inline V AEG_NAME(exp_unfused)(V x) {
    V low = VSET1(-87.0f), high = VSET1(88.0f), magic = VSET1(12582912.0f);
    V clamped = VLESSEQ(x, low, low, x);           // Swift's max(x, -87): -87 >= x ? -87 : x
    clamped = VLESS(high, clamped, high, clamped); // Swift's min(·, 88): 88 < · ? 88 : ·
    V shifted = VADD(VMUL(clamped, VSET1(1.442695040888963f)), magic);
    V k = VSUB(shifted, magic);
    V r = VSUB(VSUB(clamped, VMUL(k, VSET1(0.693145751953125f))), VMUL(k, VSET1(1.428606765330187e-06f)));
    V p = VSET1(1.0f / 720);
    p = VADD(VMUL(p, r), VSET1(1.0f / 120));
    p = VADD(VMUL(p, r), VSET1(1.0f / 24));
    p = VADD(VMUL(p, r), VSET1(1.0f / 6));
    p = VADD(VMUL(p, r), VSET1(0.5f));
    p = VADD(VMUL(p, r), VSET1(1.0f));
    p = VADD(VMUL(p, r), VSET1(1.0f));
    return VMUL(p, VPOW2(shifted));
}

// FastMath.log1pUnit: log(1 + e) for e in [0, 1], by 2 atanh(s) of 1 + e folded into [sqrt(1/2), sqrt(2)].
AEG_TARGET static inline V AEG_NAME(log1p_unit)(V e) {
    V one = VSET1(1.0f), zero = VSET1(0.0f);
    V u = VADD(one, e);
    V correction = VDIV(VSUB(e, VSUB(u, one)), u);
    V m = VLESS(VSET1(1.4142135f), u, VMUL(u, VSET1(0.5f)), u);
    V s = VDIV(VSUB(m, one), VADD(m, one));
    V s2 = VMUL(s, s);
    V q = VSET1(1.0f / 9);
    q = VADD(VMUL(q, s2), VSET1(1.0f / 7));
    q = VADD(VMUL(q, s2), VSET1(1.0f / 5));
    q = VADD(VMUL(q, s2), VSET1(1.0f / 3));
    q = VADD(VMUL(q, s2), one);
    V log = VADD(VMUL(VMUL(VSET1(2.0f), s), q), VLESS(VSET1(1.4142135f), u, VSET1(0.6931471805599453f), zero));
    return VADD(log, correction);
}

// Math.swift's sigmoid from e = e^-|x|: p = 1 / (1 + e) for x >= 0, e p below (no overflow).
AEG_TARGET static inline V AEG_NAME(sigmoid_of)(V x, V e) {
    V one = VSET1(1.0f), p = VDIV(one, VADD(one, e));
    return VLESS(x, VSET1(0.0f), VMUL(e, p), p);
}

AEG_TARGET static inline V AEG_NAME(sigmoid_lane)(V x) {
    return AEG_NAME(sigmoid_of)(x, AEG_NAME(exp_unfused)(VSUB(VSET1(0.0f), VABS(x))));
}

AEG_TARGET static void AEG_NAME(sigmoid)(long count, const float *x, float *y) {
    long i = 0;
    for (; i + VN <= count; i += VN) VSTORE(y + i, AEG_NAME(sigmoid_lane)(VLOAD(x + i)));
    for (; i < count; i++) y[i] = sigmoid_lane_scalar(x[i]);
}

// One vector of ReconstructionLoss.sigmoidBCEElement: stores scale * (sigmoid(z) - y) at
// `gradient`, returns min(max(z, 0) - z y + log(1 + e^-|z|), 100).
AEG_TARGET static inline V AEG_NAME(bce_lane)(V z, V y, V scale, float *gradient) {
    V zero = VSET1(0.0f);
    V e = AEG_NAME(exp_unfused)(VSUB(zero, VABS(z)));
    VSTORE(gradient, VMUL(scale, VSUB(AEG_NAME(sigmoid_of)(z, e), y)));
    V positive = VLESSEQ(z, zero, zero, z);         // Swift's max(z, 0): 0 >= z ? 0 : z
    V loss = VADD(VSUB(positive, VMUL(z, y)), AEG_NAME(log1p_unit)(e));
    V cap = VSET1(100.0f);
    return VLESS(cap, loss, cap, loss);
}

AEG_TARGET static double AEG_NAME(sigmoid_bce)(long count, const float *z, const float *t, float *g, float scale) {
    V scales = VSET1(scale);
    double total = 0;
    for (long start = 0; start < count; start += 1024) {
        long n = count - start < 1024 ? count - start : 1024;
        const float *zs = z + start, *ts = t + start;
        float *gs = g + start;
        V sums[16 / VN];
        for (int u = 0; u < 16 / VN; u++) sums[u] = VSET1(0.0f);
        long j = 0;
        for (; j + 16 <= n; j += 16)
            for (int u = 0; u < 16 / VN; u++) {
                long at = j + u * VN;
                sums[u] = VADD(sums[u], AEG_NAME(bce_lane)(VLOAD(zs + at), VLOAD(ts + at), scales, gs + at));
            }
        float lanes[16];
        for (int u = 0; u < 16 / VN; u++) VSTORE(lanes + u * VN, sums[u]);
        for (; j < n; j++) lanes[j % 16] += bce_lane_scalar(zs[j], ts[j], scale, gs + j);
        float partial = 0;
        for (int l = 0; l < 16; l++) partial += lanes[l];
        total += partial;
    }
    return total;
}

AEG_TARGET static void AEG_NAME(relu)(long count, const float *x, float *y) {
    V zero = VSET1(0.0f);
    long i = 0;
    for (; i + VN <= count; i += VN) {
        V v = VLOAD(x + i);
        VSTORE(y + i, VLESS(zero, v, v, zero));
    }
    for (; i < count; i++) y[i] = 0.0f < x[i] ? x[i] : 0.0f;
}

AEG_TARGET static void AEG_NAME(relu_gradient)(long count, const float *x, const float *dy, float *dx, int accumulate) {
    V zero = VSET1(0.0f);
    long i = 0;
    for (; i + VN <= count; i += VN) {
        V g = VLESS(zero, VLOAD(x + i), VLOAD(dy + i), zero);
        VSTORE(dx + i, accumulate ? VADD(g, VLOAD(dx + i)) : g);
    }
    for (; i < count; i++) {
        float g = 0.0f < x[i] ? dy[i] : 0.0f;
        dx[i] = accumulate ? g + dx[i] : g;
    }
}

AEG_TARGET static void AEG_NAME(add)(long count, const float *source, float *target) {
    long i = 0;
    for (; i + VN <= count; i += VN) VSTORE(target + i, VADD(VLOAD(source + i), VLOAD(target + i)));
    for (; i < count; i++) target[i] = source[i] + target[i];
}
