import XCTest
@testable import Autoencoders

/// Prints samples/s at the W6 shapes (T = 50, batch 64, LSTM 32→64): one LSTM layer's forward +
/// backward, and a whole training step of the W6 LSTM autoencoder. A measurement, not a check:
/// no timing is asserted (build with -c release for meaningful figures).
final class RecurrentThroughputTests: XCTestCase {
    func testW6ShapesThroughput() throws {
        let saved = BLAS.threadCount
        defer { BLAS.threadCount = saved }
        #if DEBUG
        // Unoptimised builds are ~50× slower: one measurement at the current thread count.
        try measure(threads: saved, iterations: 1)
        #else
        for threads in [1, 2] { try measure(threads: threads, iterations: 10) }
        #endif
    }

    private func measure(threads: Int, iterations: Int) throws {
        BLAS.threadCount = threads
        let batch = 64, steps = 50
        let layer = try Recurrent(cell: .lstm, steps: steps, inputFeatures: 32, hidden: 64)
        let runner = try SequenceRunner(layer, batch: batch)
        setRandomParameters(runner, seed: 1)
        runner.needsInputGradient = [false]
        let x = randomValues(batch * steps * 32, -1, 1, seed: 2), gy = randomValues(batch * layer.outputSize, -1, 1, seed: 3)
        runner.input0.set(x)
        runner.gradOutput.set(gy)
        runner.forwardInPlace()
        runner.backwardInPlace()
        var start = Clock.now()
        for _ in 0..<iterations {
            runner.forwardInPlace()
            runner.backwardInPlace()
        }
        let layerRate = Double(iterations * batch) / (Clock.now() - start)
        XCTAssertTrue(runner.gradients.allSatisfy { $0.array.allSatisfy(\.isFinite) })

        let model = try Model(json: """
            {"input_shape": [50, 32],
             "encoder": [{"type": "lstm", "units": 64, "return": "last"}],
             "decoder": [{"type": "repeat", "steps": 50}, {"type": "lstm", "units": 64},
                         {"type": "time_distributed_dense", "units": 32}],
             "loss": "mse", "optimizer": {"type": "adam", "lr": 0.001}}
            """)
        let trainer = try Trainer(model: model, batchSize: batch)
        let data = randomValues(batch * steps * 32, -1, 1, seed: 4)
        _ = try trainer.step(data, rows: batch)
        start = Clock.now()
        for _ in 0..<iterations { _ = try trainer.step(data, rows: batch) }
        let modelRate = Double(iterations * batch) / (Clock.now() - start)
        print("W6 shapes (T = 50, batch 64, \(BLAS.threadCount) BLAS threads): LSTM(32→64) forward+backward \(Int(layerRate)) samples/s; "
              + "LSTM autoencoder training step \(Int(modelRate)) samples/s")
    }
}
