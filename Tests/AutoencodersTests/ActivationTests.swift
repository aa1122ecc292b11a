import XCTest
@testable import Autoencoders

/// Activation (Sources/Autoencoders/Layers/Activation.swift): every function against PyTorch and
/// against finite differences.
final class ActivationTests: XCTestCase {
    /// Each `act_*` fixture and the function it was computed with.
    static let cases: [(name: String, function: ActivationFunction)] = [
        ("act_relu", .relu),
        ("act_leaky_relu_0p01", .leakyReLU(negativeSlope: 0.01)),
        ("act_leaky_relu_0p2", .leakyReLU(negativeSlope: 0.2)),
        ("act_elu", .elu(alpha: 1)),
        ("act_selu", .selu),
        ("act_gelu_erf", .gelu),
        ("act_gelu_tanh", .geluTanh),
        ("act_sigmoid", .sigmoid),
        ("act_tanh", .tanh),
        ("act_softplus", .softplus(beta: 1, threshold: 20)),
        ("act_identity", .identity),
    ]

    /// The fixtures are [2, 3, 7, 5]: a batch of 2 samples of shape [3, 7, 5].
    private func runner(_ function: ActivationFunction) throws -> LayerRunner {
        try LayerRunner(Activation(function, shape: [3, 7, 5]), batch: 2)
    }

    func testEveryActivationMatchesPyTorch() throws {
        for (name, function) in Self.cases {
            let layer = try runner(function)
            let y = layer.forward(try Fixtures.values(name, "x"))
            let gx = layer.backward(try Fixtures.values(name, "gy"))
            try Fixtures.assertGolden(y, name, "y")
            try Fixtures.assertGolden(gx, name, "gx")
        }
    }

    /// The fixtures keep |x| >= 0.05, so a 1% step never crosses the kink at 0.
    func testEveryActivationMatchesFiniteDifferences() throws {
        for (name, function) in Self.cases {
            let layer = try runner(function)
            let x = try Fixtures.values(name, "x"), gy = try Fixtures.values(name, "gy")
            layer.forward(x)
            let gx = layer.backward(gy)
            GradientCheck.check("\(name) dx", at: x, gradient: gx) { layer.weightedOutput($0, gy) }
        }
        // Parameters other than the fixtures' defaults.
        let x = randomValues(210, -4, 4, seed: 5).map { abs($0) < 0.05 ? $0 + 0.1 : $0 }
        let gy = randomValues(210, -1, 1, seed: 6)
        for function in [ActivationFunction.elu(alpha: 0.5), .softplus(beta: 2, threshold: 5), .leakyReLU(negativeSlope: 0.3)] {
            let layer = try runner(function)
            layer.forward(x)
            let gx = layer.backward(gy)
            GradientCheck.check("\(function) dx", at: x, gradient: gx) { layer.weightedOutput($0, gy) }
        }
    }

    /// PyTorch's conventions at the kink: relu'(0) = 0, leaky_relu uses its slope at 0.
    func testDerivativeAtZero() throws {
        for (function, expected) in [(ActivationFunction.relu, Float(0)), (.leakyReLU(negativeSlope: 0.2), 0.2 * 3)] {
            let layer = try LayerRunner(Activation(function, shape: [1]), batch: 1)
            XCTAssertEqual(layer.forward([0]), [0])
            XCTAssertEqual(layer.backward([3]), [expected], "\(function)")
        }
    }

    /// Large inputs must not overflow into NaN, in either direction.
    func testExtremeInputsStayFinite() throws {
        let x: [Float] = [-1e4, -100, -30, 30, 100, 1e4]
        for (name, function) in Self.cases {
            let layer = try LayerRunner(Activation(function, shape: [6]), batch: 1)
            let y = layer.forward(x)
            let gx = layer.backward([Float](repeating: 1, count: 6))
            XCTAssertTrue(y.allSatisfy(\.isFinite), "\(name) y: \(y)")
            XCTAssertTrue(gx.allSatisfy(\.isFinite), "\(name) gx: \(gx)")
        }
    }

    /// Forward may run in place (y and x the same buffer); backward overwrites or adds.
    func testInPlaceAndAccumulate() throws {
        for (name, function) in Self.cases {
            let x = try Fixtures.values(name, "x"), gy = try Fixtures.values(name, "gy")
            let layer = try runner(function)
            let y = layer.forward(x)
            var inPlace = try FloatBuffer(x)
            Activation.apply(function, inPlace.pointer, inPlace.pointer, x.count)
            XCTAssertEqual(inPlace.array, y, "\(name) in place")

            let gx = layer.backward(gy)
            layer.gradInput.pointer.update(repeating: .nan, count: x.count)
            XCTAssertEqual(layer.backward(gy), gx, "\(name): overwriting ignores the old gradient")
            inPlace = try FloatBuffer([Float](repeating: 1, count: x.count))
            layer.gradInput.copy(from: inPlace)
            XCTAssertEqual(layer.backward(gy, accumulate: true), gx.map { $0 + 1 }, "\(name) accumulates")
        }
    }

    func testNamesAndInitializers() {
        XCTAssertEqual(Self.cases.map(\.function.name),
                       ["relu", "leaky_relu", "leaky_relu", "elu", "selu", "gelu", "gelu_tanh", "sigmoid", "tanh", "softplus", "identity"])
        XCTAssertEqual(ActivationFunction.relu.preferredInitializer, .heUniform)
        XCTAssertEqual(ActivationFunction.selu.preferredInitializer, .lecunNormal)
        XCTAssertEqual(ActivationFunction.sigmoid.preferredInitializer, .xavierUniform)
    }
}
