import Glibc
import XCTest
@testable import Autoencoders

/// The correntropy-induced loss `.correntropy(sigma:)` (Sources/Autoencoders/Losses/ReconstructionLoss.swift),
/// ℓ = 1 − exp(−d²/2σ²) with d = x − t: value and gradient against a hand computation in Double and
/// finite differences, and its robustness: an outlier's residual has almost no gradient, unlike MSE's.
final class RobustLossTests: XCTestCase {
    private func evaluate(_ loss: ReconstructionLoss, _ x: [Float], _ t: [Float], scale: Float = 1) throws -> (Double, [Float]) {
        let gradient = try FloatBuffer(count: x.count)
        let sum = loss.evaluate(output: x, target: t, count: x.count, gradient: gradient.pointer, scale: scale)
        return (sum, gradient.array)
    }

    /// (Σ ℓ, ∂ℓ/∂x) in Double.
    private func byHand(sigma: Double, _ x: [Float], _ t: [Float]) -> (Double, [Double]) {
        var sum = 0.0, gradient: [Double] = []
        for i in x.indices {
            let d = Double(x[i]) - Double(t[i])
            let kernel = exp(-d * d / (2 * sigma * sigma))
            sum += 1 - kernel
            gradient.append(d / (sigma * sigma) * kernel)
        }
        return (sum, gradient)
    }

    func testValueAndGradientMatchAHandComputation() throws {
        let x = randomValues(500, -3, 3, seed: 100), t = randomValues(500, -3, 3, seed: 101)
        for sigma: Float in [0.3, 1, 2.5] {
            let (expectedSum, expectedGradient) = byHand(sigma: Double(sigma), x, t)
            let (sum, gradient) = try evaluate(.correntropy(sigma: sigma), x, t, scale: 0.5)
            XCTAssertEqual(sum, expectedSum, accuracy: 1e-5 * expectedSum, "σ = \(sigma): Σ ℓ")
            assertClose(gradient, expectedGradient.map { Float(0.5 * $0) }, rtol: 1e-4, atol: 1e-7, "σ = \(sigma): 0.5 · ∂ℓ/∂x")
            XCTAssertEqual(ReconstructionLoss.correntropy(sigma: sigma).evaluate(output: x, target: t, count: x.count, gradient: nil, scale: 1),
                           sum, "σ = \(sigma): the same sum without a gradient")
        }
        // A few exact points: ℓ(t, t) = 0 with zero gradient; ℓ at d = σ is 1 − e^{−1/2}.
        let (zero, zeroGradient) = try evaluate(.correntropy(sigma: 0.7), [0.4], [0.4])
        XCTAssertEqual(zero, 0)
        XCTAssertEqual(zeroGradient, [0])
        let (atSigma, atSigmaGradient) = try evaluate(.correntropy(sigma: 0.7), [1.7], [1])
        XCTAssertEqual(atSigma, 1 - exp(-0.5), accuracy: 1e-6)
        XCTAssertEqual(Double(atSigmaGradient[0]), exp(-0.5) / 0.7, accuracy: 1e-5)
    }

    /// For small residuals it is MSE / 2σ²; it never exceeds 1 per element.
    func testSmallResidualsBehaveLikeScaledMSEAndValuesAreBounded() throws {
        let t = randomValues(200, -1, 1, seed: 102)
        let x = zip(t, randomValues(200, -1e-3, 1e-3, seed: 103)).map { $0 + $1 }
        let sigma: Float = 0.5
        let (robust, robustGradient) = try evaluate(.correntropy(sigma: sigma), x, t)
        let (mse, mseGradient) = try evaluate(.mse, x, t)
        let factor = 1 / (2 * Double(sigma * sigma))
        XCTAssertEqual(robust, factor * mse, accuracy: 1e-3 * factor * mse)
        assertClose(robustGradient, mseGradient.map { Float(factor) * $0 }, rtol: 1e-3, atol: 1e-9, "gradient ≈ MSE's / 2σ²")
        let (large, _) = try evaluate(.correntropy(sigma: sigma), randomValues(300, -100, 100, seed: 104), [Float](repeating: 0, count: 300))
        XCTAssertLessThanOrEqual(large, 300)
    }

    func testMatchesFiniteDifferences() throws {
        let x = randomValues(150, -2, 2, seed: 105), t = randomValues(150, -2, 2, seed: 106)
        for sigma: Float in [0.5, 1, 3] {
            let loss = ReconstructionLoss.correntropy(sigma: sigma)
            let (_, gradient) = try evaluate(loss, x, t)
            GradientCheck.check("correntropy σ = \(sigma) dx", at: x, gradient: gradient, step: 1e-3) { xs in
                loss.evaluate(output: xs, target: t, count: xs.count, gradient: nil, scale: 1)
            }
        }
    }

    /// A residual of 50σ has a gradient of essentially 0 (MSE's is 100σ) and adds at most 1 to the sum.
    func testAnOutlierBarelyMovesIt() throws {
        let t = randomValues(100, -1, 1, seed: 107)
        var x = zip(t, randomValues(100, -0.2, 0.2, seed: 108)).map { $0 + $1 }
        let (clean, cleanGradient) = try evaluate(.correntropy(sigma: 1), x, t)
        let (cleanMSE, _) = try evaluate(.mse, x, t)
        x[17] = t[17] + 50
        let (dirty, dirtyGradient) = try evaluate(.correntropy(sigma: 1), x, t)
        let (dirtyMSE, mseGradient) = try evaluate(.mse, x, t)
        XCTAssertEqual(dirtyGradient[17], 0, accuracy: 1e-30, "the outlier's gradient")
        XCTAssertEqual(mseGradient[17], 100, accuracy: 1e-3)
        XCTAssertLessThanOrEqual(dirty - clean, 1.0)
        XCTAssertGreaterThan(dirtyMSE - cleanMSE, 2000)
        for i in x.indices where i != 17 { XCTAssertEqual(dirtyGradient[i], cleanGradient[i], "other elements are unaffected") }
    }

    // MARK: In a model

    static func spec(loss: String) -> String {
        """
        {"input_size": 8, "seed": 6, "loss": \(loss), "optimizer": {"type": "sgd", "lr": 0.05},
         "encoder": [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 3}],
         "decoder": [{"type": "dense", "units": 5, "activation": "tanh"}, {"type": "dense", "units": 8}]}
        """
    }

    func testSpecParsesWithDefaultSigma() throws {
        XCTAssertEqual(try Model(json: Self.spec(loss: #""correntropy""#)).spec.loss, .correntropy(sigma: 1))
        XCTAssertEqual(try Model(json: Self.spec(loss: #"{"type": "correntropy", "sigma": 0.4}"#)).spec.loss, .correntropy(sigma: 0.4))
        XCTAssertEqual(ReconstructionLoss.correntropy(sigma: 0.4).name, "correntropy")
    }

    /// The model's objective with the correntropy loss against finite differences over every parameter.
    func testModelGradientMatchesFiniteDifferences() throws {
        let x = randomValues(6 * 8, -1, 1, seed: 109)
        let model = try Model(json: Self.spec(loss: #"{"type": "correntropy", "sigma": 0.6}"#))
        let trainer = try Trainer(model: model, batchSize: 6)
        let objective = trainer.computeGradients(x, rows: 6)
        XCTAssertEqual(objective, try trainer.evaluate(x, rows: 6), accuracy: 1e-6 * objective)
        let p = model.parameters.array
        GradientCheck.check("correntropy model", at: p, gradient: model.gradients.array, directions: 8, step: 1e-3) { values in
            model.parameters.set(values)
            defer { model.parameters.set(p) }
            return (try? trainer.evaluate(x, rows: 6)) ?? .nan
        }
    }

    /// A batch of 8 samples, and the same batch with a 9th sample far from anything the model
    /// outputs. MSE's parameter gradient changes completely; correntropy's only by the larger
    /// element count of the mean: the outlier's own contribution is 0, so it is 8/9 of the clean one.
    func testAnOutlierSampleBarelyChangesTheModelGradient() throws {
        let clean = randomValues(8 * 8, -1, 1, seed: 110)
        let dirty = clean + (0..<8).map { Float($0 % 2 == 0 ? 80 : -80) }
        func gradients(_ loss: String) throws -> (clean: [Float], dirty: [Float]) {
            func gradient(_ x: [Float], rows: Int) throws -> [Float] {
                let model = try Model(json: Self.spec(loss: loss))
                _ = try Trainer(model: model, batchSize: rows).computeGradients(x, rows: rows)
                return model.gradients.array
            }
            return (try gradient(clean, rows: 8), try gradient(dirty, rows: 9))
        }
        func relativeChange(_ a: [Float], _ b: [Float]) -> Double {
            let difference = zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
            return difference / a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        }
        let mse = try gradients(#""mse""#)
        XCTAssertGreaterThan(relativeChange(mse.clean, mse.dirty), 10, "MSE's gradient is dominated by the outlier")
        let robust = try gradients(#"{"type": "correntropy", "sigma": 1}"#)
        assertClose(robust.dirty, robust.clean.map { $0 * 8 / 9 }, relative: 1e-5, "correntropy: the outlier adds nothing")
    }
}
