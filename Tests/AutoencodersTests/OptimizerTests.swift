import XCTest
@testable import Autoencoders

/// The optimizers (Sources/Autoencoders/Optimizers/): five steps of each `optim_*` fixture, the
/// parameters compared with PyTorch's after every step.
final class OptimizerTests: XCTestCase {
    static let caseNames = ["optim_sgd", "optim_sgd_momentum", "optim_sgd_nesterov", "optim_sgd_weight_decay",
                            "optim_adam", "optim_adam_weight_decay", "optim_adamw",
                            "optim_rmsprop", "optim_rmsprop_momentum", "optim_adagrad"]

    /// The configuration a case's hyperparameters describe (PyTorch's defaults where one is absent).
    private func configuration(_ caseName: String) throws -> OptimizerConfiguration {
        let h = try Fixtures.hyperparameters(caseName)
        func number(_ key: String, _ fallback: Double) -> Float { Float(h[key]?.doubleValue ?? fallback) }
        let lr = number("lr", 0.001), wd = number("weight_decay", 0)
        let betas = h["betas"]?.arrayValue?.compactMap(\.doubleValue) ?? [0.9, 0.999]
        switch h["optimizer"]?.stringValue {
        case "SGD":
            return .sgd(learningRate: lr, momentum: number("momentum", 0), dampening: number("dampening", 0),
                        nesterov: h["nesterov"]?.boolValue ?? false, weightDecay: wd)
        case "Adam":
            return .adam(learningRate: lr, beta1: Float(betas[0]), beta2: Float(betas[1]), epsilon: number("eps", 1e-8), weightDecay: wd)
        case "AdamW":
            return .adamW(learningRate: lr, beta1: Float(betas[0]), beta2: Float(betas[1]), epsilon: number("eps", 1e-8), weightDecay: wd)
        case "RMSprop":
            XCTAssertEqual(h["centered"]?.boolValue, false, "centered RMSprop is not implemented")
            return .rmsprop(learningRate: lr, alpha: number("alpha", 0.99), epsilon: number("eps", 1e-8),
                            momentum: number("momentum", 0), weightDecay: wd)
        case "Adagrad":
            return .adagrad(learningRate: lr, learningRateDecay: number("lr_decay", 0), epsilon: number("eps", 1e-10),
                            weightDecay: wd, initialAccumulator: number("initial_accumulator_value", 0))
        case let other:
            throw Fixtures.Missing(description: "\(caseName): unknown optimizer \(other ?? "nil")")
        }
    }

    func testEveryOptimizerMatchesPyTorchAtEveryStep() throws {
        for caseName in Self.caseNames {
            let p0 = try Fixtures.values(caseName, "p0")
            let grads = try Fixtures.values(caseName, "grads")        // [5, 5, 3]
            let expected = try Fixtures.values(caseName, "params")    // [5, 5, 3]
            let tolerance = try Fixtures.tolerance(caseName, "params")
            let count = p0.count
            let optimizer = try configuration(caseName).makeOptimizer(parameterCount: count)
            let parameters = try FloatBuffer(p0)
            for step in 0..<5 {
                let gradient = try FloatBuffer(Array(grads[(step * count)..<((step + 1) * count)]))
                optimizer.step(parameters: parameters.pointer, gradients: gradient.pointer, count: count)
                assertClose(parameters.array, Array(expected[(step * count)..<((step + 1) * count)]),
                            rtol: tolerance.rtol, atol: tolerance.atol, "\(caseName) after step \(step + 1)")
            }
            XCTAssertEqual(optimizer.stepCount, 5, caseName)
        }
    }

    /// A step consumes the gradients: it zeroes them so the next backward pass accumulates from zero.
    func testStepZeroesTheGradientsItReads() throws {
        let configurations: [OptimizerConfiguration] = [
            .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.01), .defaultAdam,
            .adamW(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1),
            .rmsprop(learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, momentum: 0.5, weightDecay: 0),
            .adagrad(learningRate: 0.1, learningRateDecay: 0.01, epsilon: 1e-10, weightDecay: 0, initialAccumulator: 0.1),
        ]
        for configuration in configurations {
            let gradient = try FloatBuffer(randomValues(10, -1, 1, seed: 3))
            let parameters = try FloatBuffer(randomValues(10, -1, 1, seed: 4))
            let optimizer = try configuration.makeOptimizer(parameterCount: 10)
            optimizer.step(parameters: parameters.pointer, gradients: gradient.pointer, count: 10)
            XCTAssertEqual(gradient.array, [Float](repeating: 0, count: 10), configuration.name)
            XCTAssertNotEqual(parameters.array, randomValues(10, -1, 1, seed: 4), configuration.name)
            XCTAssertEqual(optimizer.learningRate, configuration.learningRate)
            XCTAssertTrue(optimizer.state.allSatisfy { $0.buffer.count == 10 }, configuration.name)
        }
    }

    /// Large parameter buffers are updated in ranges on the library's threads
    /// (`Parallel.forEachRange`): every optimizer, with and without momentum, gives bit for bit
    /// the one-thread result at two and three threads, over three steps (state carried over).
    func testUpdatesSplitAcrossThreadsMatchOneThreadBitForBit() throws {
        let saved = Parallel.threadCount
        defer { Parallel.threadCount = saved }
        let count = 100_003
        let configurations: [OptimizerConfiguration] = [
            .sgd(learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0.01),
            .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true, weightDecay: 0.01), .defaultAdam,
            .adamW(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1),
            .rmsprop(learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, momentum: 0, weightDecay: 0.01),
            .rmsprop(learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, momentum: 0.5, weightDecay: 0),
            .adagrad(learningRate: 0.1, learningRateDecay: 0.01, epsilon: 1e-10, weightDecay: 0.01, initialAccumulator: 0.1),
        ]
        for configuration in configurations {
            func run(threads: Int) throws -> [[Float]] {
                Parallel.threadCount = threads
                XCTAssertEqual(Parallel.parts(count: count, work: count * 4), threads, "the update splits into one part per thread")
                let parameters = try FloatBuffer(randomValues(count, -1, 1, seed: 5))
                let optimizer = try configuration.makeOptimizer(parameterCount: count)
                for step in 0..<3 {
                    let gradient = try FloatBuffer(randomValues(count, -1, 1, seed: UInt64(6 + step)))
                    optimizer.step(parameters: parameters.pointer, gradients: gradient.pointer, count: count)
                    XCTAssertEqual(gradient.array.firstIndex { $0 != 0 }, nil, "\(configuration.name): gradients zeroed")
                }
                return [parameters.array] + optimizer.state.map(\.buffer.array)
            }
            let one = try run(threads: 1)
            for threads in [2, 3] {
                XCTAssertEqual(try run(threads: threads), one, "\(configuration.name) at \(threads) threads")
            }
        }
    }

    /// The state buffers carry stable names: they are the model file's tensor names.
    func testStateNames() {
        func names(_ configuration: OptimizerConfiguration) throws -> [String] {
            try configuration.makeOptimizer(parameterCount: 4).state.map(\.name)
        }
        XCTAssertEqual(try names(.sgd(learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0)), [])
        XCTAssertEqual(try names(.sgd(learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0)), ["momentum_buffer"])
        XCTAssertEqual(try names(.defaultAdam), ["exp_avg", "exp_avg_sq"])
        XCTAssertEqual(try names(.rmsprop(learningRate: 0.1, alpha: 0.99, epsilon: 1e-8, momentum: 0, weightDecay: 0)), ["square_avg"])
        XCTAssertEqual(try names(.rmsprop(learningRate: 0.1, alpha: 0.99, epsilon: 1e-8, momentum: 0.9, weightDecay: 0)),
                       ["square_avg", "momentum_buffer"])
        XCTAssertEqual(try names(.adagrad(learningRate: 0.1, learningRateDecay: 0, epsilon: 1e-10, weightDecay: 0, initialAccumulator: 0)), ["sum"])
    }

    /// AdamW without decay is Adam; with decay it shrinks p before the Adam step (not through the gradient).
    func testAdamWDecouplesWeightDecay() throws {
        let p = randomValues(8, -1, 1, seed: 5), g = randomValues(8, -1, 1, seed: 6)
        func run(_ configuration: OptimizerConfiguration, _ start: [Float]) throws -> [Float] {
            let parameters = try FloatBuffer(start)
            let optimizer = try configuration.makeOptimizer(parameterCount: 8)
            for _ in 0..<3 {
                let gradient = try FloatBuffer(g)
                optimizer.step(parameters: parameters.pointer, gradients: gradient.pointer, count: 8)
            }
            return parameters.array
        }
        let adam = try run(.adam(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0), p)
        XCTAssertEqual(try run(.adamW(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0), p), adam)
        XCTAssertNotEqual(try run(.adamW(learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.1), p), adam)
    }

    /// A changed learning rate (what a schedule does between epochs) takes effect at the next step.
    func testLearningRateIsReadAtEveryStep() throws {
        let optimizer = try OptimizerConfiguration.sgd(learningRate: 0.1, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0)
            .makeOptimizer(parameterCount: 1)
        let parameters = try FloatBuffer([1])
        let gradient = try FloatBuffer([1])
        optimizer.step(parameters: parameters.pointer, gradients: gradient.pointer, count: 1)
        optimizer.learningRate = 0.5
        gradient.pointer[0] = 1
        optimizer.step(parameters: parameters.pointer, gradients: gradient.pointer, count: 1)
        XCTAssertEqual(parameters.array[0], 1 - 0.1 - 0.5, accuracy: 1e-7)
    }
}
