import XCTest
@testable import Autoencoders

/// ReconstructionLoss and WeightDecay (Sources/Autoencoders/Losses/): golden values for both
/// reductions, the fused sigmoid + BCE, and finite-difference checks.
///
/// `evaluate` returns the SUM of ℓ and writes scale·∂ℓ/∂x, so PyTorch's 'mean' is sum/count with
/// scale 1/count, and 'sum' is the sum with scale 1.
final class LossTests: XCTestCase {
    static let cases: [(prefix: String, loss: ReconstructionLoss)] = [
        ("loss_mse", .mse),
        ("loss_l1", .l1),
        ("loss_huber", .huber(delta: 1)),
        ("loss_smooth_l1", .smoothL1(beta: 1)),
        ("loss_bce", .bce),
        ("loss_bce_with_logits", .bceWithLogits),
    ]

    /// (sum of ℓ, scale·∂ℓ/∂x)
    private func evaluate(_ loss: ReconstructionLoss, _ x: [Float], _ t: [Float], scale: Float) throws -> (Double, [Float]) {
        let gradient = try FloatBuffer(count: x.count)
        let sum = loss.evaluate(output: x, target: t, count: x.count, gradient: gradient.pointer, scale: scale)
        return (sum, gradient.array)
    }

    private func fused(_ z: [Float], _ t: [Float], scale: Float) throws -> (Double, [Float]) {
        let gradient = try FloatBuffer(count: z.count)
        let sum = ReconstructionLoss.sigmoidBCE(logits: z, target: t, count: z.count, gradient: gradient.pointer, scale: scale)
        return (sum, gradient.array)
    }

    /// The fused sigmoid + BCE of a large batch runs in blocks on the library's threads: the
    /// gradients are bit for bit the one-thread ones, and the loss's sum (added part by part in
    /// double precision) agrees to 1e-12.
    func testFusedBCESplitAcrossThreadsMatchesOneThread() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let count = 256 * 784 + 5
        let z = randomValues(count, -8, 8, seed: 11), t = randomValues(count, 0, 1, seed: 12)
        Parallel.threadCount = 1
        let (sum, gradient) = try fused(z, t, scale: 0.25)
        for threads in [2, 3] {
            Parallel.threadCount = threads
            XCTAssertEqual(Parallel.parts(count: (count + 1023) / 1024, work: 8 * count), threads, "parts")
            let (split, splitGradient) = try fused(z, t, scale: 0.25)
            XCTAssertEqual(splitGradient, gradient, "gradients at \(threads) threads")
            XCTAssertEqual(split, sum, accuracy: 1e-12 * abs(sum), "loss at \(threads) threads")
        }
    }

    /// Checks loss, gx = gy·∂L/∂x and gx_unit = ∂L/∂x of one fixture case.
    private func assertGolden(_ caseName: String, _ evaluate: ([Float], [Float], Float) throws -> (Double, [Float]),
                              file: StaticString = #filePath, line: UInt = #line) throws {
        let x = try Fixtures.values(caseName, "x"), t = try Fixtures.values(caseName, "target")
        let gy = try Fixtures.values(caseName, "gy")[0]
        let mean = caseName.hasSuffix("_mean")
        let count = Float(x.count)
        let (sum, unit) = try evaluate(x, t, mean ? 1 / count : 1)
        let (_, scaled) = try evaluate(x, t, mean ? gy / count : gy)
        let loss = mean ? sum / Double(count) : sum
        try Fixtures.assertGolden([Float(loss)], caseName, "loss", file: file, line: line)
        try Fixtures.assertGolden(unit, caseName, "gx_unit", file: file, line: line)
        try Fixtures.assertGolden(scaled, caseName, "gx", file: file, line: line)
    }

    // MARK: Golden

    func testEveryLossMatchesPyTorchForBothReductions() throws {
        for (prefix, loss) in Self.cases {
            for reduction in ["mean", "sum"] {
                try assertGolden("\(prefix)_\(reduction)") { x, t, scale in try evaluate(loss, x, t, scale: scale) }
            }
        }
    }

    /// The fused path computes BCE-with-logits, so it must reproduce that fixture too (logits ±30 included).
    func testFusedSigmoidBCEMatchesBCEWithLogitsFixture() throws {
        for reduction in ["mean", "sum"] {
            try assertGolden("loss_bce_with_logits_\(reduction)") { z, t, scale in try fused(z, t, scale: scale) }
        }
    }

    /// σ followed by BCE equals the fused step, in value and in gradient (chain rule through σ).
    func testFusedSigmoidBCEEqualsBCEOfSigmoid() throws {
        let z = randomValues(300, -6, 6, seed: 11), t = randomValues(300, 0, 1, seed: 12)
        let p = try FloatBuffer(count: z.count)
        Activation.apply(.sigmoid, z, p.pointer, z.count)
        let (bceSum, bceGradient) = try evaluate(.bce, p.array, t, scale: 0.5)
        let (fusedSum, fusedGradient) = try fused(z, t, scale: 0.5)
        XCTAssertEqual(fusedSum, bceSum, accuracy: 1e-5 * abs(bceSum))
        let chained = (0..<z.count).map { bceGradient[$0] * p.pointer[$0] * (1 - p.pointer[$0]) }
        assertClose(fusedGradient, chained, rtol: 1e-4, atol: 1e-6, "fused gradient vs BCE gradient · σ'")
    }

    func testGradientIsOptionalAndLossIsTheSameWithoutIt() throws {
        let x = try Fixtures.values("loss_huber_sum", "x"), t = try Fixtures.values("loss_huber_sum", "target")
        for (_, loss) in Self.cases where loss != .bce {
            let withGradient = try evaluate(loss, x, t, scale: 1).0
            XCTAssertEqual(loss.evaluate(output: x, target: t, count: x.count, gradient: nil, scale: 1),
                           withGradient, "\(loss.name)")
        }
    }

    /// Huber(δ) = δ · SmoothL1(β = δ): checked at δ ≠ 1, where mixing up δ and β would show.
    func testHuberIsDeltaTimesSmoothL1() throws {
        let x = randomValues(200, -2, 2, seed: 13), t = randomValues(200, -2, 2, seed: 14)
        let (huber, huberGradient) = try evaluate(.huber(delta: 0.5), x, t, scale: 1)
        let (smooth, smoothGradient) = try evaluate(.smoothL1(beta: 0.5), x, t, scale: 1)
        XCTAssertEqual(huber, 0.5 * smooth, accuracy: 1e-5 * abs(huber))
        assertClose(huberGradient, smoothGradient.map { 0.5 * $0 }, relative: 1e-6, "huber vs smooth_l1 gradient")
    }

    // MARK: Finite differences

    func testEveryLossMatchesFiniteDifferences() throws {
        let n = 120
        let t = randomValues(n, -1, 1, seed: 20)
        // Differences d = x − t of magnitude 0.1…1.9 with random signs: away from 0 (L1) and from
        // |d| = δ for the δ used (0.5 and 1.5 are kept clear of by 0.05).
        var random = RandomGenerator(seed: 21)
        let d: [Float] = (0..<n).map { _ in
            var magnitude = random.uniform(0.1, 1.9)
            for kink: Float in [0.5, 1, 1.5] where abs(magnitude - kink) < 0.05 { magnitude += 0.1 }
            return random.uniform() < 0.5 ? -magnitude : magnitude
        }
        let x = zip(t, d).map { $0 + $1 }
        let losses: [ReconstructionLoss] = [.mse, .l1, .huber(delta: 1), .huber(delta: 0.5), .smoothL1(beta: 1), .smoothL1(beta: 1.5), .bceWithLogits]
        for loss in losses {
            let (_, gradient) = try evaluate(loss, x, t, scale: 1)
            GradientCheck.check("\(loss) dx", at: x, gradient: gradient, step: 1e-3) { xs in
                loss.evaluate(output: xs, target: t, count: n, gradient: nil, scale: 1)
            }
        }
        // BCE on probabilities in (0.05, 0.95), and the fused form on logits.
        let p = randomValues(n, 0.05, 0.95, seed: 22), targets = randomValues(n, 0, 1, seed: 23)
        let (_, bceGradient) = try evaluate(.bce, p, targets, scale: 1)
        GradientCheck.check("bce dx", at: p, gradient: bceGradient, step: 1e-3) { ps in
            ReconstructionLoss.bce.evaluate(output: ps, target: targets, count: n, gradient: nil, scale: 1)
        }
        let z = randomValues(n, -5, 5, seed: 24)
        let (_, fusedGradient) = try fused(z, targets, scale: 1)
        GradientCheck.check("sigmoid+bce dz", at: z, gradient: fusedGradient) { zs in
            ReconstructionLoss.sigmoidBCE(logits: zs, target: targets, count: n, gradient: nil, scale: 1)
        }
    }

    // MARK: Weight decay

    func testWeightDecayValueAndGradient() throws {
        let w: [Float] = [0.5, -2, 0, 3, -0.25]
        for p in [1, 2] {
            let decay = WeightDecay(lambda: 0.1, p: p)
            let gradient = try FloatBuffer([Float](repeating: 1, count: w.count))   // apply adds to it
            let value = decay.apply(w, count: w.count, gradient: gradient.pointer)
            if p == 1 {
                XCTAssertEqual(value, 0.1 * 5.75, accuracy: 1e-7)
                assertClose(gradient.array, [1.1, 0.9, 1, 1.1, 0.9], relative: 1e-6, "L1 gradient (0 at w = 0)")
            } else {
                XCTAssertEqual(value, 0.1 * (0.25 + 4 + 9 + 0.0625), accuracy: 1e-6)
                assertClose(gradient.array, [1.1, 0.6, 1, 1.6, 0.95], relative: 1e-6, "L2 gradient")
            }
            XCTAssertEqual(decay.apply(w, count: w.count, gradient: nil), value, "p = \(p) without a gradient")
        }
    }

    func testWeightDecayMatchesFiniteDifferences() throws {
        // Away from 0, where |w| has its kink.
        let w = randomValues(50, 0.1, 2, seed: 30).enumerated().map { $0.offset % 2 == 0 ? $0.element : -$0.element }
        for p in [1, 2] {
            let decay = WeightDecay(lambda: 0.3, p: p)
            let gradient = try FloatBuffer(count: w.count)
            _ = decay.apply(w, count: w.count, gradient: gradient.pointer)
            GradientCheck.check("weight decay p = \(p)", at: w, gradient: gradient.array, step: 1e-3) { ws in
                decay.apply(ws, count: ws.count, gradient: nil)
            }
        }
    }
}
