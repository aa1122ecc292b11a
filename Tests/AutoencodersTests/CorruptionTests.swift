import XCTest
@testable import Autoencoders

/// Corruption (Sources/Autoencoders/Training/Corruption.swift) and the denoising autoencoder's
/// training: the noise's statistics, its determinism, that it is applied to training batches only
/// (fresh each batch) and that the loss compares with the clean input.
///
/// Statistical checks allow 5 standard errors: with the fixed seeds they are deterministic, and
/// a wrong scale, fraction or split misses by far more.
final class CorruptionTests: XCTestCase {
    private func corrupted(_ corruption: Corruption, _ x: [Float], seed: UInt64) -> [Float] {
        var values = x
        var random = RandomGenerator(seed: seed)
        corruption.apply(&values, count: values.count, random: &random)
        return values
    }

    private func meanAndStd(_ values: [Float]) -> (Double, Double) {
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let variance = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count - 1)
        return (mean, variance.squareRoot())
    }

    // MARK: The noise

    func testGaussianNoiseHasTheRightMeanAndStd() throws {
        let n = 100_001   // odd: the last value takes the first of a pair
        for (base, sigma) in [(Float(0), Float(1)), (0.5, 0.3), (-2, 2)] {
            let x = [Float](repeating: base, count: n)
            let noise = corrupted(.gaussian(stddev: sigma, clip: nil), x, seed: 11).map { $0 - base }
            let (mean, std) = meanAndStd(noise)
            XCTAssertEqual(mean, 0, accuracy: 5 * Double(sigma) / Double(n).squareRoot(), "σ = \(sigma): mean")
            // The standard error of s is about σ/√(2n).
            XCTAssertEqual(std, Double(sigma), accuracy: 5 * Double(sigma) / (2 * Double(n)).squareRoot(), "σ = \(sigma): std")
            XCTAssertNotEqual(noise[n - 1], 0, "the odd last element gets noise too")
        }
        // Added to the input, not replacing it.
        let x = randomValues(1000, -1, 1, seed: 12)
        let (mean, _) = meanAndStd(zip(corrupted(.gaussian(stddev: 0.01, clip: nil), x, seed: 13), x).map { $0 - $1 })
        XCTAssertEqual(mean, 0, accuracy: 5 * 0.01 / 1000.0.squareRoot())
        XCTAssertEqual(corrupted(.gaussian(stddev: 0, clip: nil), x, seed: 13), x, "σ = 0 changes nothing")
    }

    func testGaussianClip() throws {
        let n = 50_000
        let clipped = corrupted(.gaussian(stddev: 1, clip: -0.5...1.5), [Float](repeating: 0.5, count: n), seed: 14)
        XCTAssertGreaterThanOrEqual(clipped.min()!, -0.5)
        XCTAssertLessThanOrEqual(clipped.max()!, 1.5)
        // P(|N(0, 1)| > 1) = 0.3173: each bound takes half of it.
        for bound: Float in [-0.5, 1.5] {
            let fraction = Double(clipped.filter { $0 == bound }.count) / Double(n)
            let p = 0.158655
            XCTAssertEqual(fraction, p, accuracy: 5 * (p * (1 - p) / Double(n)).squareRoot(), "at \(bound)")
        }
        // The clip also applies to inputs that were outside the range before the noise.
        let far = corrupted(.gaussian(stddev: 0.1, clip: 0...1), [-5, 5, 0.5, 7], seed: 15)
        XCTAssertEqual(far[0], 0)
        XCTAssertEqual(far[1], 1)
        XCTAssertEqual(far[3], 1)
    }

    func testMaskingZeroesAboutTheFraction() throws {
        let n = 40_000
        let x = randomValues(n, 1, 2, seed: 16)   // no zeros of its own
        for fraction: Float in [0, 0.1, 0.5, 1] {
            let y = corrupted(.masking(fraction: fraction), x, seed: 17)
            let zeroed = y.filter { $0 == 0 }.count
            let p = Double(fraction)
            XCTAssertEqual(Double(zeroed) / Double(n), p, accuracy: 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-12, "fraction \(fraction)")
            for i in 0..<n where y[i] != 0 { XCTAssertEqual(y[i], x[i]); break }
            XCTAssertTrue(zip(x, y).allSatisfy { $1 == 0 || $1 == $0 }, "fraction \(fraction): kept values are unchanged")
        }
    }

    func testSaltAndPepperSetsTheFractionHalfLowHalfHigh() throws {
        let n = 40_000
        let x = [Float](repeating: 0.5, count: n)
        for fraction: Float in [0.2, 0.6, 1] {
            let y = corrupted(.saltAndPepper(fraction: fraction, low: -1, high: 2), x, seed: 18)
            let low = Double(y.filter { $0 == -1 }.count) / Double(n), high = Double(y.filter { $0 == 2 }.count) / Double(n)
            XCTAssertEqual(y.filter { $0 != -1 && $0 != 2 && $0 != 0.5 }.count, 0)
            let p = Double(fraction)
            XCTAssertEqual(low + high, p, accuracy: 5 * (p * (1 - p) / Double(n)).squareRoot() + 1e-12, "fraction \(fraction)")
            XCTAssertEqual(low, p / 2, accuracy: 5 * (p / 2 * (1 - p / 2) / Double(n)).squareRoot(), "fraction \(fraction): low")
            XCTAssertEqual(high, p / 2, accuracy: 5 * (p / 2 * (1 - p / 2) / Double(n)).squareRoot(), "fraction \(fraction): high")
        }
    }

    func testSameSeedSameNoiseAndAnotherSeedOther() throws {
        let x = randomValues(1001, -1, 1, seed: 19)
        for corruption in [Corruption.gaussian(stddev: 0.3, clip: -1...1), .masking(fraction: 0.3),
                           .saltAndPepper(fraction: 0.3, low: 0, high: 1)] {
            assertIdentical(corrupted(corruption, x, seed: 20), corrupted(corruption, x, seed: 20), "\(corruption)")
            XCTAssertNotEqual(corrupted(corruption, x, seed: 20), corrupted(corruption, x, seed: 21), "\(corruption)")
        }
    }

    // MARK: In a model

    /// A 6→6→6 linear model; with `identity` the weights are I and the biases 0, so it reconstructs exactly.
    private func makeModel(noise: String?, identity: Bool = false, lr: Double = 0.01, seed: Int = 8) throws -> Model {
        let json = """
            {"input_size": 6, "seed": \(seed), "loss": "mse", "optimizer": {"type": "sgd", "lr": \(lr)},\(noise.map { " \"noise\": \($0)," } ?? "")
             "encoder": [{"type": "dense", "units": 6}], "decoder": [{"type": "dense", "units": 6}]}
            """
        let model = try Model(json: json)
        if identity {
            let eye = (0..<36).map { Float($0 % 7 == 0 ? 1 : 0) }
            model.parameters.zero()
            for name in ["encoder.0.weight", "decoder.0.weight"] {
                try eye.withUnsafeBufferPointer { try model.setParameter(named: name, values: $0) }
            }
        }
        return model
    }

    func testSpecNoiseParses() throws {
        XCTAssertEqual(try makeModel(noise: #"{"type": "gaussian", "stddev": 0.2}"#).spec.noise, .gaussian(stddev: 0.2, clip: nil))
        XCTAssertEqual(try makeModel(noise: #"{"type": "gaussian", "stddev": 0.2, "clip": [0, 1]}"#).spec.noise, .gaussian(stddev: 0.2, clip: 0...1))
        XCTAssertEqual(try makeModel(noise: #"{"type": "masking", "fraction": 0.25}"#).spec.noise, .masking(fraction: 0.25))
        XCTAssertEqual(try makeModel(noise: #"{"type": "salt_and_pepper", "fraction": 0.1}"#).spec.noise, .saltAndPepper(fraction: 0.1, low: 0, high: 1))
        XCTAssertEqual(try makeModel(noise: #"{"type": "salt_and_pepper", "fraction": 0.1, "low": -1, "high": 3}"#).spec.noise,
                       .saltAndPepper(fraction: 0.1, low: -1, high: 3))
        XCTAssertNil(try makeModel(noise: nil).spec.noise)
    }

    /// Inference never corrupts: the same weights with and without noise give identical results.
    func testNoiseIsNotAppliedAtInference() throws {
        let x = try Tensor(shape: [10, 6], values: randomValues(60, -1, 1, seed: 22))
        for noise in [#"{"type": "gaussian", "stddev": 1}"#, #"{"type": "masking", "fraction": 0.9}"#,
                      #"{"type": "salt_and_pepper", "fraction": 0.9, "low": -5, "high": 5}"#] {
            let noisy = try makeModel(noise: noise), clean = try makeModel(noise: nil)
            clean.parameters.set(noisy.parameters.array)
            assertIdentical(try noisy.reconstruct(x).values, try clean.reconstruct(x).values, "\(noise): reconstruct")
            assertIdentical(try noisy.encode(x).values, try clean.encode(x).values, "\(noise): encode")
            assertIdentical(try noisy.score(x), try clean.score(x), "\(noise): score")
            XCTAssertEqual(try Trainer(model: noisy, batchSize: 10).evaluate(x.values, rows: 10),
                           try Trainer(model: clean, batchSize: 10).evaluate(x.values, rows: 10), "\(noise): evaluate")
            XCTAssertEqual(noisy.random, clean.random, "\(noise): inference draws no random numbers")
        }
    }

    /// With masking fraction 1 the network sees zeros, but the loss compares with the clean input:
    /// the identity model's loss is that of reconstructing x from 0, not 0.
    func testLossTargetIsTheCleanInput() throws {
        let x = randomValues(4 * 6, -1, 1, seed: 23)
        let model = try makeModel(noise: #"{"type": "masking", "fraction": 1.0}"#, identity: true)
        try [Float](repeating: 0.25, count: 6).withUnsafeBufferPointer { try model.setParameter(named: "decoder.0.bias", values: $0) }
        let fromZero = try model.reconstruct(Tensor(zeros: [4, 6])).values   // 0.25 everywhere
        let expected = zip(fromZero, x).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(x.count)
        let reconstructed = try model.reconstruct(try Tensor(shape: [4, 6], values: x)).values
        let clean = zip(reconstructed, x).reduce(0.0) { $0 + Double(($1.0 - $1.1) * ($1.0 - $1.1)) } / Double(x.count)
        XCTAssertEqual(clean, 0.0625, accuracy: 1e-6, "without corruption only the bias is wrong")
        let loss = try Trainer(model: model, batchSize: 4).step(x, rows: 4)
        XCTAssertEqual(loss, expected, accuracy: 1e-6 * expected)
        XCTAssertGreaterThan(abs(loss - clean), 0.1)
    }

    /// The corruption acts in the model's scaled space: masked inputs are 0 there, the data-space
    /// offset, and the loss is measured there too.
    func testCorruptionActsInTheScaledSpace() throws {
        let x = randomValues(4 * 6, -1, 1, seed: 25)
        let offset = randomValues(6, -0.5, 0.5, seed: 26), scale = randomValues(6, 0.5, 2, seed: 27)
        let model = try makeModel(noise: #"{"type": "masking", "fraction": 1.0}"#)
        try model.setInputScaling(try InputScaling(offset: offset, scale: scale))
        let fromOffset = try model.reconstruct(try Tensor(shape: [4, 6], values: (0..<24).map { offset[$0 % 6] })).values
        let expected = (0..<24).reduce(0.0) { sum, i in
            let d = Double(fromOffset[i] - x[i]) / Double(scale[i % 6])
            return sum + d * d
        } / 24
        let loss = try Trainer(model: model, batchSize: 4).step(x, rows: 4)
        XCTAssertEqual(loss, expected, accuracy: 1e-5 * expected)
    }

    /// Two steps on the same batch with the same weights see different corruption; two models with
    /// the same seed see the same.
    func testFreshNoiseEveryBatchAndDeterministicPerSeed() throws {
        let x = randomValues(8 * 6, -1, 1, seed: 24)
        for noise in [#"{"type": "gaussian", "stddev": 0.5}"#, #"{"type": "masking", "fraction": 0.5}"#,
                      #"{"type": "salt_and_pepper", "fraction": 0.5}"#] {
            func losses(seed: Int) throws -> [Double] {
                let model = try makeModel(noise: noise, identity: true, lr: 1e-9, seed: seed)
                let weights = model.parameters.array
                let trainer = try Trainer(model: model, batchSize: 8)
                var losses: [Double] = []
                for _ in 0..<4 {
                    losses.append(try trainer.step(x, rows: 8))
                    model.parameters.set(weights)   // plain SGD keeps no state: the weights are exactly as before
                }
                return losses
            }
            let first = try losses(seed: 8)
            XCTAssertEqual(Set(first).count, first.count, "\(noise): every step sees new noise: \(first)")
            XCTAssertEqual(try losses(seed: 8), first, "\(noise): same seed, same noise")
            XCTAssertNotEqual(try losses(seed: 9), first, "\(noise): another seed, other noise")
        }
        // Without noise the same steps give the same loss.
        let model = try makeModel(noise: nil, identity: true, lr: 1e-9)
        let weights = model.parameters.array
        let trainer = try Trainer(model: model, batchSize: 8)
        let a = try trainer.step(x, rows: 8)
        model.parameters.set(weights)
        XCTAssertEqual(try trainer.step(x, rows: 8), a)
    }

    /// `fit` trains a denoising model: it learns to map corrupted inputs back toward the clean data.
    func testFitWithNoiseTrainsAndStaysDeterministic() throws {
        let data = try TrainingTests.lowRankData()
        func trained() throws -> [Float] {
            let model = try Model(json: ModelTests.spec(seed: 3, extra: #""noise": {"type": "gaussian", "stddev": 0.1}"#))
            var options = TrainingOptions()
            options.epochs = 5
            options.batchSize = 16
            let report = try model.fit(data, options: options)
            XCTAssertLessThan(report.trainLoss.last!, report.trainLoss.first!)
            return model.parameters.array
        }
        assertIdentical(try trained(), try trained(), "same seed, same noisy training")
    }
}
