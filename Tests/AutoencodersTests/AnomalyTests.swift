import XCTest
@testable import Autoencoders

/// Anomaly detection (Sources/Autoencoders/Model/AnomalyDetection.swift): the threshold is numpy's
/// default (linear) quantile of the scores, samples scoring above it are anomalies, and it is kept
/// in the model file.
final class AnomalyTests: XCTestCase {
    static func spec(seed: Int = 21) -> String {
        """
        {"input_size": 6, "seed": \(seed),
         "encoder": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 2}],
         "decoder": [{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "dense", "units": 6}]}
        """
    }

    /// numpy.quantile(values, q) with method="linear", including numpy's _lerp, which for t >= 0.5
    /// interpolates from the upper value.
    private func numpyQuantile(_ values: [Float], _ q: Double) -> Double {
        let sorted = values.map(Double.init).sorted()
        let position = q * Double(sorted.count - 1)
        let below = Int(position.rounded(.down)), above = min(below + 1, sorted.count - 1)
        let t = position - Double(below), a = sorted[below], b = sorted[above]
        let difference = b - a
        return t >= 0.5 ? b - difference * (1 - t) : a + difference * t
    }

    private func fit(_ model: Model, _ x: [Float], rows: Int, quantile: Double) throws(AutoencoderError) -> Float {
        try model.fitAnomalyThreshold(x, rows: rows, quantile: quantile)
    }

    private func predict(_ model: Model, _ x: [Float], rows: Int) throws(AutoencoderError) -> [Int32] {
        var labels = [Int32](repeating: -1, count: max(rows, 1))   // an empty array may have no base address
        try labels.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in try model.predictAnomalies(x, rows: rows, into: out.baseAddress!) }
        return Array(labels.prefix(rows))
    }

    func testThresholdIsNumpysLinearQuantileOfTheScores() throws {
        let model = try Model(json: Self.spec())
        for rows in [1, 2, 7, 50, 301] {
            let x = randomValues(rows * 6, -1, 1, seed: UInt64(150 + rows))
            let scores = try model.score(try Tensor(shape: [rows, 6], values: x))
            for q in [0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1] {
                let threshold = try fit(model, x, rows: rows, quantile: q)
                let expected = numpyQuantile(scores, q)
                XCTAssertEqual(Double(threshold), expected, accuracy: 1e-6 * expected + 1e-12, "rows \(rows), q \(q)")
                XCTAssertEqual(model.anomalyThreshold, threshold, "rows \(rows), q \(q): the threshold is set")
            }
            XCTAssertEqual(try fit(model, x, rows: rows, quantile: 0), scores.min(), "rows \(rows): q = 0 is the minimum")
            XCTAssertEqual(try fit(model, x, rows: rows, quantile: 1), scores.max(), "rows \(rows): q = 1 is the maximum")
        }
        // A hand-checkable case: scores are not sorted on input, and q = 0.3 of 5 values sits 20% of the way from the 2nd to the 3rd.
        let scores: [Float] = [0.5, 0.1, 0.4, 0.2, 0.3]
        XCTAssertEqual(numpyQuantile(scores, 0.3), 0.22, accuracy: 1e-7)
    }

    func testPredictLabelsScoresAboveTheThreshold() throws {
        let model = try Model(json: Self.spec())
        let rows = 40
        let x = randomValues(rows * 6, -1, 1, seed: 160)
        let scores = try model.score(try Tensor(shape: [rows, 6], values: x))
        let threshold = try fit(model, x, rows: rows, quantile: 0.8)
        let labels = try predict(model, x, rows: rows)
        XCTAssertEqual(labels, scores.map { $0 > threshold ? 1 : 0 })
        XCTAssertEqual(labels.filter { $0 == 1 }.count, 8, "20% of 40 lie above the 0.8 quantile")
        // A score equal to the threshold is not an anomaly.
        try model.setAnomalyThreshold(scores[5])
        XCTAssertEqual(try predict(model, x, rows: rows)[5], 0)
        try model.setAnomalyThreshold(scores.max()!)
        XCTAssertEqual(try predict(model, x, rows: rows), [Int32](repeating: 0, count: rows))
        try model.setAnomalyThreshold(0)
        XCTAssertEqual(try predict(model, x, rows: rows), scores.map { $0 > 0 ? 1 : 0 })
        // Far-off samples are anomalies after fitting on normal data.
        _ = try fit(model, x, rows: rows, quantile: 0.99)
        XCTAssertEqual(try predict(model, [Float](repeating: 40, count: 12), rows: 2), [1, 1])
        XCTAssertEqual(try predict(model, [], rows: 0), [])
    }

    func testThresholdSurvivesSaveAndLoad() throws {
        let model = try Model(json: Self.spec())
        let x = randomValues(30 * 6, -1, 1, seed: 161)
        XCTAssertNil(try Model.load(bytes: try model.serialized()).anomalyThreshold, "no threshold, none after loading")
        let threshold = try fit(model, x, rows: 30, quantile: 0.9)
        for includeOptimizerState in [true, false] {
            let loaded = try Model.load(bytes: try model.serialized(includeOptimizerState: includeOptimizerState))
            XCTAssertEqual(loaded.anomalyThreshold, threshold)
            XCTAssertEqual(try predict(loaded, x, rows: 30), try predict(model, x, rows: 30))
        }
        // Removing it removes it from the file too.
        try model.setAnomalyThreshold(nil)
        XCTAssertNil(model.anomalyThreshold)
        XCTAssertNil(try Model.load(bytes: try model.serialized()).anomalyThreshold)
        // A threshold of exactly 0 is a threshold.
        try model.setAnomalyThreshold(0)
        XCTAssertEqual(try Model.load(bytes: try model.serialized()).anomalyThreshold, 0)
    }

    func testPredictWithoutThresholdIsUnsupported() throws {
        let model = try Model(json: Self.spec())
        let error = assertThrows(.unsupported, { () throws(AutoencoderError) in try predict(model, randomValues(6, -1, 1, seed: 162), rows: 1) })
        XCTAssertTrue(error?.message.contains("threshold") == true, error?.message ?? "")
    }

    func testInvalidQuantileThresholdAndDataAreRejected() throws {
        let model = try Model(json: Self.spec())
        let x = randomValues(10 * 6, -1, 1, seed: 163)
        for q in [-0.01, 1.01, .nan, .infinity] {
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try fit(model, x, rows: 10, quantile: q) })
        }
        XCTAssertNil(model.anomalyThreshold, "a rejected fit sets nothing")
        assertThrows(.invalidArgument, { () throws(AutoencoderError) in try fit(model, x, rows: 0, quantile: 0.5) })
        for bad: Float in [-1e-6, -1, .nan, .infinity, -.infinity] {
            assertThrows(.invalidArgument, { () throws(AutoencoderError) in try model.setAnomalyThreshold(bad) })
        }
        XCTAssertNil(model.anomalyThreshold, "a rejected value sets nothing")
        var bad = x
        bad[7] = .nan
        assertThrows(.numeric, { () throws(AutoencoderError) in try fit(model, bad, rows: 10, quantile: 0.5) })
        try model.setAnomalyThreshold(0.1)
        assertThrows(.numeric, { () throws(AutoencoderError) in try predict(model, bad, rows: 10) })
    }
}
