import CGemm
import XCTest
@testable import Autoencoders

/// The training step's element-wise passes in CGemm (aeelementwise.h: Adam, sigmoid + BCE, ReLU
/// and its gradient, sigmoid, the sum of two arrays): every instruction set this CPU runs against the Swift formulas they
/// replaced, bit for bit, at lengths that leave every kind of partial vector and block, on values
/// that reach the formulas' edges (signed zeros, subnormals, infinities, NaN, the exp clamp).
final class ElementwiseKernelTests: XCTestCase {
    static let lengths = [0, 1, 7, 8, 15, 16, 17, 31, 100, 1024, 1031, 2085, 5000]

    /// Runs `body` once per instruction set this CPU and OS run ("scalar" always), then restores
    /// the automatic choice.
    func forEachInstructionSet(_ body: (String) throws -> Void) rethrows {
        defer { XCTAssertEqual(aeg_elementwise_select("auto"), 0) }
        var ran = 0
        for set in ["scalar", "avx2", "avx512"] where aeg_elementwise_select(set) == 0 {
            XCTAssertEqual(String(cString: aeg_elementwise_instruction_set()), set)
            try body(set)
            ran += 1
        }
        XCTAssertGreaterThanOrEqual(ran, 1)
    }

    /// Values with the edges mixed in at positions that land in vectors and in tails alike.
    func values(_ count: Int, _ low: Float, _ high: Float, seed: UInt64, edges: [Float]) -> [Float] {
        var result = randomValues(count, low, high, seed: seed)
        for i in stride(from: 0, to: count, by: 5) { result[i] = edges[(i / 5) % edges.count] }
        return result
    }

    func assertSameBits(_ actual: [Float], _ expected: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for i in 0..<min(actual.count, expected.count) where !(actual[i].isNaN && expected[i].isNaN)
            && actual[i].bitPattern != expected[i].bitPattern {
            XCTFail("\(message) [\(i)]: \(actual[i]) against \(expected[i])", file: file, line: line)
            return
        }
    }

    func testInstructionSetChoice() {
        let automatic = String(cString: aeg_elementwise_instruction_set())
        XCTAssertTrue(["scalar", "avx2", "avx512"].contains(automatic))
        XCTAssertEqual(aeg_elementwise_select("avx1024"), -1)
        XCTAssertEqual(aeg_elementwise_select(""), -1)
        XCTAssertEqual(String(cString: aeg_elementwise_instruction_set()), automatic, "a refused name changes nothing")
        if aeg_kernel_supported(AEG_KERNEL_AVX512) != 0 { XCTAssertEqual(automatic, "avx512") }
        XCTAssertTrue(String(cString: aeg_description()).contains("element-wise passes: \(automatic)"))
    }

    func testAdamMatchesTheSwiftRule() {
        // (β₁, β₂, ε, lr, weight decay, decoupled) at step 1 and at step 3
        let settings: [(Float, Float, Float, Float, Float, Bool)] = [
            (0.9, 0.999, 1e-8, 1e-3, 0, false), (0.8, 0.99, 1e-6, 3e-2, 0.01, false), (0.9, 0.999, 1e-8, 1e-3, 0.05, true),
        ]
        let edges: [Float] = [0, -0.0, Float.leastNormalMagnitude / 4, -Float.leastNormalMagnitude / 4, 1e-20, 3e38, -3e38]
        forEachInstructionSet { set in
            for (b1, b2, eps, lr, wd, decoupled) in settings {
                for count in Self.lengths {
                    for step in [1.0, 3.0] {
                        let stepSize = Float(Double(lr) / (1 - _pow(Double(b1), step)))
                        let correction = Float(1 / (1 - _pow(Double(b2), step)).squareRoot())
                        let coupled: Float = decoupled ? 0 : wd, shrink: Float = decoupled ? 1 - lr * wd : 1
                        let p0 = values(count, -2, 2, seed: 1, edges: edges), g0 = values(count, -1, 1, seed: 2, edges: edges)
                        let m0 = values(count, -0.1, 0.1, seed: 3, edges: [0]), v0 = randomValues(count, 0, 0.01, seed: 4)
                        var (p, g, m, v) = (p0, g0, m0, v0)
                        var (ep, eg, em, ev) = (p0, g0, m0, v0)
                        for i in 0..<count {
                            let gi = eg[i] + coupled * ep[i]
                            eg[i] = 0
                            let mi = b1 * em[i] + (1 - b1) * gi
                            let vi = b2 * ev[i] + (1 - b2) * gi * gi
                            em[i] = mi
                            ev[i] = vi
                            ep[i] = ep[i] * shrink - stepSize * mi / (vi.squareRoot() * correction + eps)
                        }
                        aeg_adam_update(count, &p, &g, &m, &v, b1, b2, eps, stepSize, correction, coupled, shrink)
                        let label = "\(set), count \(count), step \(step), wd \(wd)\(decoupled ? " decoupled" : "")"
                        assertSameBits(p, ep, "parameters, \(label)")
                        assertSameBits(g, eg, "gradients zeroed, \(label)")
                        assertSameBits(m, em, "first moment, \(label)")
                        assertSameBits(v, ev, "second moment, \(label)")
                    }
                }
            }
        }
    }

    func testSigmoidBCEMatchesTheSwiftFormula() {
        let finite: [Float] = [0, -0.0, Float.leastNormalMagnitude / 4, -Float.leastNormalMagnitude / 4, 5, -5, 20, -20, 87, -87,
                               88.5, -88.5, 100, -100, 1e30, -1e30]
        forEachInstructionSet { set in
            for count in Self.lengths {
                for (scale, logitEdges): (Float, [Float]) in [(1, finite), (1.0 / 3, finite), (1, finite + [.infinity, -.infinity])] {
                    let z = values(count, -12, 12, seed: 5, edges: logitEdges)
                    var t = randomValues(count, 0, 1, seed: 6)
                    for i in stride(from: 1, to: count, by: 3) { t[i] = i % 2 == 0 ? 0 : 1 }
                    var gradient = [Float](repeating: .nan, count: count)
                    let total = aeg_sigmoid_bce(count, z, t, &gradient, scale)
                    // The documented order: per block of 1,024, element j into lane j mod 16, the
                    // lanes added in order into a float, the blocks into a double.
                    var expectedGradient = [Float](repeating: 0, count: count)
                    var expectedTotal: Double = 0
                    for start in stride(from: 0, to: count, by: 1024) {
                        var lanes = [Float](repeating: 0, count: 16)
                        for j in 0..<min(1024, count - start) {
                            let (loss, difference) = ReconstructionLoss.sigmoidBCEElement(z[start + j], t[start + j])
                            expectedGradient[start + j] = scale * difference
                            lanes[j % 16] += loss
                        }
                        var partial: Float = 0
                        for lane in lanes { partial += lane }
                        expectedTotal += Double(partial)
                    }
                    let label = "\(set), count \(count), scale \(scale)"
                    assertSameBits(gradient, expectedGradient, "gradient, \(label)")
                    XCTAssertEqual(total.bitPattern, expectedTotal.bitPattern, "loss \(total) against \(expectedTotal), \(label)")
                    // And the loss itself, against double precision (∞ · 0 has no value there).
                    guard z.allSatisfy(\.isFinite) else { continue }
                    var exact: Double = 0
                    for i in 0..<count {
                        let v = Double(z[i]), y = Double(t[i])
                        let softplus: Double = log1p(exp(-abs(v)))
                        exact += min(max(v, 0) - v * y + softplus, 100)
                    }
                    XCTAssertEqual(total, exact, accuracy: 1e-5 * max(1, abs(exact)), label)
                }
            }
        }
    }

    func testReLUAndItsGradientMatchTheSwiftFormulas() {
        let edges: [Float] = [0, -0.0, Float.leastNormalMagnitude / 4, -Float.leastNormalMagnitude / 4, .infinity, -.infinity, .nan, 3, -3]
        forEachInstructionSet { set in
            for count in Self.lengths {
                let x = values(count, -1, 1, seed: 7, edges: edges), dy = values(count, -1, 1, seed: 8, edges: [2, .nan])
                let label = "\(set), count \(count)"
                var y = [Float](repeating: .nan, count: count)
                aeg_relu(count, x, &y)
                let expected = x.map { $0 > 0 ? $0 : 0 }
                assertSameBits(y, expected, "relu, \(label)")
                XCTAssertFalse(y.contains { $0.isNaN }, "NaN gives 0, \(label)")
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { aeg_relu(count, $0.baseAddress, $0.baseAddress) }
                assertSameBits(inPlace, expected, "relu in place, \(label)")

                let gradient = (0..<count).map { x[$0] > 0 ? dy[$0] : 0 }
                var dx = [Float](repeating: .nan, count: count)
                aeg_relu_gradient(count, x, dy, &dx, 0)
                assertSameBits(dx, gradient, "relu gradient, \(label)")
                let before = randomValues(count, -1, 1, seed: 9)
                dx = before
                aeg_relu_gradient(count, x, dy, &dx, 1)
                assertSameBits(dx, (0..<count).map { before[$0] + gradient[$0] }, "relu gradient accumulated, \(label)")
            }
        }
    }

    func testAddMatchesTheSwiftSum() {
        forEachInstructionSet { set in
            for count in Self.lengths {
                let source = values(count, -1, 1, seed: 10, edges: [0, -0.0, .infinity, .nan, 1e30])
                let before = values(count, -1, 1, seed: 11, edges: [-0.0, 0, -.infinity, 2, -1e30])
                var target = before
                aeg_add(count, source, &target)
                assertSameBits(target, (0..<count).map { before[$0] + source[$0] }, "add, \(set), count \(count)")
            }
        }
    }

    func testSigmoidMatchesTheSwiftFormula() {
        let edges: [Float] = [0, -0.0, Float.leastNormalMagnitude / 4, 5, -5, 20, -20, 87, -87, 88.5, -88.5, 1e30, -1e30,
                              .infinity, -.infinity, .nan]
        forEachInstructionSet { set in
            for count in Self.lengths {
                let x = values(count, -12, 12, seed: 12, edges: edges)
                let expected = x.map { Autoencoders.sigmoid($0) }
                var y = [Float](repeating: .nan, count: count)
                aeg_sigmoid(count, x, &y)
                assertSameBits(y, expected, "sigmoid, \(set), count \(count)")
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { aeg_sigmoid(count, $0.baseAddress, $0.baseAddress) }
                assertSameBits(inPlace, expected, "sigmoid in place, \(set), count \(count)")
            }
        }
    }
}
