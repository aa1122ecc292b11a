import XCTest
@testable import Autoencoders

/// LearningRateSchedule (Sources/Autoencoders/Training/LearningRateSchedule.swift). The expected
/// values are PyTorch's StepLR, ExponentialLR and CosineAnnealingLR for base lr 0.1, written out
/// by hand (epochs count from 0; `scheduler.get_last_lr()` after `epoch` calls of `step()`).
final class ScheduleTests: XCTestCase {
    private func rates(_ schedule: LearningRateSchedule, epochs: Int, base: Float = 0.1) -> [Float] {
        (0..<epochs).map { schedule.learningRate(base: base, epoch: $0) }
    }

    private func assertRates(_ schedule: LearningRateSchedule, _ expected: [Float], _ name: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        assertClose(rates(schedule, epochs: expected.count), expected, rtol: 1e-6, atol: 1e-9, name, file: file, line: line)
    }

    func testConstant() {
        XCTAssertEqual(rates(.constant, epochs: 4), [0.1, 0.1, 0.1, 0.1])
    }

    /// StepLR(step_size=3, gamma=0.5): lr · 0.5^⌊epoch/3⌋
    func testStep() {
        assertRates(.init(.step(stepSize: 3, gamma: 0.5)), [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125], "step")
        assertRates(.init(.step(stepSize: 1, gamma: 0.1)), [0.1, 0.01, 0.001, 0.0001], "step 1")
    }

    /// ExponentialLR(gamma=0.9): lr · 0.9^epoch
    func testExponential() {
        assertRates(.init(.exponential(gamma: 0.9)), [0.1, 0.09, 0.081, 0.0729, 0.06561, 0.059049], "exponential")
    }

    /// CosineAnnealingLR(T_max=4, eta_min=0.001): 0.001 + 0.099·(1 + cos(π·epoch/4))/2, then eta_min
    /// (the closed form, without PyTorch's restarts past T_max).
    func testCosine() {
        assertRates(.init(.cosine(period: 4, minimum: 0.001)),
                    [0.1, 0.085_501_786, 0.0505, 0.015_498_214, 0.001, 0.001, 0.001], "cosine")
        assertRates(.init(.cosine(period: 2, minimum: 0)), [0.1, 0.05, 0, 0], "cosine to zero")
    }

    /// Linear warm-up over 4 epochs: lr·(epoch+1)/4, then the schedule starts from its own epoch 0.
    func testWarmUp() {
        assertRates(.init(.constant, warmupEpochs: 4), [0.025, 0.05, 0.075, 0.1, 0.1, 0.1], "warm-up")
        assertRates(.init(.step(stepSize: 2, gamma: 0.5), warmupEpochs: 2), [0.05, 0.1, 0.1, 0.1, 0.05, 0.05, 0.025], "warm-up + step")
        assertRates(.init(.cosine(period: 4, minimum: 0.001), warmupEpochs: 1),
                    [0.1, 0.1, 0.085_501_786, 0.0505, 0.015_498_214, 0.001], "warm-up + cosine")
    }

    /// The spec's "schedule" object reaches these shapes.
    func testParsedFromSpec() throws {
        func schedule(_ json: String) throws -> LearningRateSchedule {
            try ModelSpec(json: #"{"input_size": 4, "encoder": [{"type": "dense", "units": 2}], "decoder": [{"type": "dense", "units": 4}], "schedule": \#(json)}"#).schedule
        }
        XCTAssertEqual(try schedule(#"{"type": "step", "step_size": 3, "gamma": 0.5}"#), .init(.step(stepSize: 3, gamma: 0.5)))
        XCTAssertEqual(try schedule(#"{"type": "step", "step_size": 3}"#), .init(.step(stepSize: 3, gamma: 0.1)))
        XCTAssertEqual(try schedule(#"{"type": "exponential", "gamma": 0.9, "warmup_epochs": 2}"#), .init(.exponential(gamma: 0.9), warmupEpochs: 2))
        XCTAssertEqual(try schedule(#"{"type": "cosine", "t_max": 10, "eta_min": 0.0001}"#), .init(.cosine(period: 10, minimum: 0.0001)))
        XCTAssertEqual(try schedule(#"{"type": "constant", "warmup_epochs": 3}"#), .init(.constant, warmupEpochs: 3))
    }
}
