import XCTest
@testable import Autoencoders

/// Binary cross-entropy refuses targets outside [0, 1] (Losses/TargetRange.swift): raw pixels
/// would otherwise train to a loss of −1e15 without any error.
final class BCETargetTests: XCTestCase {
    static func spec(loss: String = "bce", output: String = "sigmoid", branchLoss: String? = nil) -> String {
        let branch = branchLoss.map {
            #", "branches": [{"name": "side", "weight": 0.5, "loss": "\#($0)", "layers": [{"type": "dense", "units": 6, "activation": "sigmoid"}]}]"#
        } ?? ""
        return #"{"input_size": 6, "encoder": [{"type": "dense", "units": 3, "activation": "relu", "name": "code"}], "decoder": [{"type": "dense", "units": 6, "activation": "\#(output)"}], "loss": "\#(loss)", "seed": 1\#(branch)}"#
    }

    func testFitRefusesRawPixelsNamingTheElementAndChangesNothing() throws {
        let model = try Model(json: Self.spec())
        let before = model.parameters.array
        var x = randomValues(4 * 6, 0, 1, seed: 5)
        x[2 * 6 + 4] = 255
        let data = try Tensor(shape: [4, 6], values: x)
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try model.fit(data) }
        XCTAssertEqual(error?.message, "data: element 16 (sample 2, feature 4) is 255.0; the bce loss needs targets in [0, 1]: scale the data into [0, 1] first (pixels: divide by 255, e.g. --divide-by 255 on the command line or X / 255.0 in Python), or use another loss such as mse")
        assertIdentical(model.parameters.array, before, "parameters after the refused fit")
        XCTAssertEqual(model.epochsCompleted, 0)
    }

    func testEvaluateStepAndValidationDataAreChecked() throws {
        let model = try Model(json: Self.spec(loss: "bce_with_logits", output: "linear"))
        let good = randomValues(4 * 6, 0, 1, seed: 6)
        var bad = good
        bad[5] = -0.001
        let trainer = try Trainer(model: model, batchSize: 4)
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try trainer.evaluate(bad, rows: 4) }
        XCTAssertTrue(error?.message.hasPrefix("data: element 5 (sample 0, feature 5) is -0.001; the bce_with_logits loss") ?? false)
        let stepError = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try trainer.step(bad, rows: 4) }
        XCTAssertTrue(stepError?.message.hasPrefix("batch: element 5") ?? false)
        let validation = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try model.fit(try Tensor(shape: [4, 6], values: good), validation: try Tensor(shape: [4, 6], values: bad))
        }
        XCTAssertTrue(validation?.message.hasPrefix("validation data: element 5") ?? false)
        XCTAssertEqual(model.epochsCompleted, 0)
        XCTAssertNoThrow(try trainer.step(good, rows: 4))
    }

    func testTheTargetIsTheInputAfterTheModelsScaling() throws {
        let model = try Model(json: Self.spec())
        try model.setInputScaling(try InputScaling(offset: [Float](repeating: 0, count: 6), scale: [Float](repeating: 255, count: 6)))
        var pixels = randomValues(4 * 6, 0, 255, seed: 7)
        XCTAssertNoThrow(try model.fit(try Tensor(shape: [4, 6], values: pixels)))
        pixels[3] = 256
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in
            try model.fit(try Tensor(shape: [4, 6], values: pixels))
        }
        XCTAssertTrue(error?.message.contains("is 256.0 after the model's input scaling (1.0039216)") ?? false, error?.message ?? "")
    }

    func testMaskedOutElementsAreNotTargets() throws {
        let model = try Model(json: Self.spec())
        var x = randomValues(2 * 6, 0, 1, seed: 8)
        var mask = [Float](repeating: 1, count: 12)
        x[7] = 99
        mask[7] = 0
        let trainer = try Trainer(model: model, batchSize: 2)
        XCTAssertNoThrow(try trainer.step(x, rows: 2, mask: mask))
    }

    func testOtherLossesAndBranchesFollowTheirOwnLoss() throws {
        let x = try Tensor(shape: [2, 6], values: randomValues(12, -3, 3, seed: 9))
        XCTAssertNoThrow(try Model(json: Self.spec(loss: "mse", output: "linear")).fit(x))
        let branched = try Model(json: Self.spec(loss: "mse", output: "linear", branchLoss: "bce"))
        let error = assertThrows(.invalidArgument) { () throws(AutoencoderError) in try branched.fit(x) }
        XCTAssertTrue(error?.message.contains("the bce loss needs targets in [0, 1]") ?? false, error?.message ?? "")
    }
}
