import XCTest
@testable import Autoencoders

/// `Lanes` (Tensor/Lanes.swift): the lane-wise `FastMath.exp`, `sigmoid` and `fastTanh` the
/// recurrent cells use must give what the scalar functions give, lane by lane, over the whole
/// range (tiny, the polynomial's switch at |x| = 1/8, large, beyond the exp clamp, ±0, NaN);
/// partial loads and stores touch only their `count` floats.
final class LanesTests: XCTestCase {
    private let values: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-6, -3e-5, 0.1249, 0.125, -0.1251, 0.5, -0.75, 1, -2.5,
                                   4, -7.9, 9.5, -15, 20, -44, 60, -87.5, 90, -100, 200, .nan, -.infinity, .infinity, 0.3]

    private func check(_ name: String, lanes: (Lanes) -> Lanes, scalar: (Float) -> Float, relative: Float) {
        for start in stride(from: 0, to: values.count, by: Lanes.scalarCount) {
            let chunk = Array(values[start..<min(start + Lanes.scalarCount, values.count)])
            let result = chunk.withUnsafeBufferPointer { lanes(loadLanes($0.baseAddress!, chunk.count)) }
            for (i, x) in chunk.enumerated() {
                let expected = scalar(x), actual = result[i]
                if expected.isNaN {
                    XCTAssertTrue(actual.isNaN, "\(name)(\(x)) = \(actual), expected NaN")
                } else {
                    XCTAssertEqual(actual, expected, accuracy: relative * max(abs(expected), Float.leastNormalMagnitude),
                                   "\(name)(\(x))")
                }
            }
        }
    }

    func testLaneFunctionsEqualTheScalarOnes() {
        check("sigmoid", lanes: { sigmoid($0) }, scalar: { sigmoid($0) }, relative: 4e-7)
        check("fastTanh", lanes: { fastTanh($0) }, scalar: { fastTanh($0) }, relative: 4e-7)
        // exp only where the cells call it (−|x|, −2|x|) and a little above.
        check("exp", lanes: { FastMath.exp(-FastMath.abs($0)) }, scalar: { FastMath.exp(-abs($0)) }, relative: 4e-7)
        check("exp", lanes: { FastMath.exp($0) }, scalar: { FastMath.exp($0) }, relative: 4e-7)
    }

    func testPartialLoadsAndStoresTouchOnlyTheirCount() {
        for count in 1...Lanes.scalarCount {
            let source = (0..<Lanes.scalarCount).map { Float($0 + 1) }
            let loaded = source.withUnsafeBufferPointer { loadLanes($0.baseAddress!, count) }
            for i in 0..<Lanes.scalarCount { XCTAssertEqual(loaded[i], i < count ? Float(i + 1) : 0, "load \(count), lane \(i)") }
            var target = [Float](repeating: -1, count: Lanes.scalarCount + 1)
            target.withUnsafeMutableBufferPointer { storeLanes(loaded * 2, $0.baseAddress!, count) }
            for i in 0...Lanes.scalarCount { XCTAssertEqual(target[i], i < count ? Float(2 * (i + 1)) : -1, "store \(count), float \(i)") }
        }
    }
}
