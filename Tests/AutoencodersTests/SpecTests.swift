import XCTest
@testable import Autoencoders

/// The JSON spec (Sources/Autoencoders/Spec/, built by Model/GraphBuilder.swift): what valid specs
/// turn into, and for invalid ones the error kind and the exact JSON path the message starts with.
final class SpecTests: XCTestCase {
    static let classic = classicSpec(tied: false)

    static func classicSpec(tied: Bool) -> String {
        """
        {"input_size": 100, "tied_weights": \(tied),
         "encoder": [{"type": "dense", "units": 50, "activation": "relu"},
                     {"type": "dense", "units": 25, "activation": "relu"},
                     {"type": "dense", "units": 10, "activation": "relu"}],
         "decoder": [{"type": "dense", "units": 25, "activation": "relu"},
                     {"type": "dense", "units": 50, "activation": "relu"},
                     {"type": "dense", "units": 100, "activation": "sigmoid"}]}
        """
    }

    /// A small spec 4→2→4 with `extra` appended to the root object (e.g. `"loss": "l1"`).
    private func small(_ extra: String = "", encoder: String = #"[{"type": "dense", "units": 2, "activation": "tanh"}]"#,
                       decoder: String = #"[{"type": "dense", "units": 4}]"#) -> String {
        #"{"input_size": 4, "encoder": \#(encoder), "decoder": \#(decoder)\#(extra.isEmpty ? "" : ", " + extra)}"#
    }

    /// Asserts that building a model from `json` fails with `.invalidSpec` and a message that starts with `path`.
    private func assertInvalid(_ json: String, path: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = assertThrows(.invalidSpec, { () throws(AutoencoderError) in try Model(json: json) }, file: file, line: line) else { return }
        XCTAssertTrue(error.message.hasPrefix(path.isEmpty ? "" : path + ": "),
                      "\"\(error.message)\" should start with \"\(path): \"", file: file, line: line)
        XCTAssertFalse(error.message.hasPrefix(path + "."), "the path is more specific than expected: \(error.message)", file: file, line: line)
    }

    // MARK: Valid

    func testClassicExample() throws {
        let model = try Model(json: Self.classic)
        XCTAssertEqual(model.inputShape, [100])
        XCTAssertEqual(model.codeSize, 10)
        XCTAssertEqual(model.parameterCount, 100 * 50 + 50 + 50 * 25 + 25 + 25 * 10 + 10 + 10 * 25 + 25 + 25 * 50 + 50 + 50 * 100 + 100)
        XCTAssertEqual(model.nodeNames, ["encoder.0", "encoder.0.relu", "encoder.1", "encoder.1.relu", "encoder.2", "encoder.2.relu",
                                         "decoder.0", "decoder.0.relu", "decoder.1", "decoder.1.relu", "decoder.2", "decoder.2.sigmoid"])
        XCTAssertEqual(model.spec.loss, .mse)
        XCTAssertEqual(model.spec.optimizer, .defaultAdam)
        XCTAssertEqual(model.spec.schedule, .constant)
        XCTAssertEqual(model.spec.seed, 0)
        XCTAssertFalse(model.spec.tiedWeights)
        XCTAssertTrue(model.canDecode)
    }

    func testTiedWeights() throws {
        let model = try Model(json: Self.classicSpec(tied: true))
        XCTAssertTrue(model.spec.tiedWeights)
        XCTAssertEqual(model.parameterEntries.map(\.name),
                       ["encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias", "encoder.2.weight", "encoder.2.bias",
                        "decoder.0.bias", "decoder.1.bias", "decoder.2.bias"])
    }

    func testEveryActivationName() throws {
        let expected: [(String, ActivationFunction)] = [
            (#""identity""#, .identity), (#""linear""#, .identity), (#""relu""#, .relu),
            (#""leaky_relu""#, .leakyReLU(negativeSlope: 0.01)), (#"{"type": "leaky_relu", "negative_slope": 0.2}"#, .leakyReLU(negativeSlope: 0.2)),
            (#""elu""#, .elu(alpha: 1)), (#"{"type": "elu", "alpha": 0.5}"#, .elu(alpha: 0.5)), (#""selu""#, .selu),
            (#""gelu""#, .gelu), (#""gelu_tanh""#, .geluTanh), (#""sigmoid""#, .sigmoid), (#""tanh""#, .tanh),
            (#""softplus""#, .softplus(beta: 1, threshold: 20)),
            (#"{"type": "softplus", "beta": 2, "threshold": 10}"#, .softplus(beta: 2, threshold: 10)),
        ]
        for (json, function) in expected {
            // As a dense layer's activation, and as a layer of its own.
            let spec = try ModelSpec(json: small(encoder: #"[{"type": "dense", "units": 2, "activation": \#(json)}]"#))
            XCTAssertEqual(spec.encoder[0].kind, .dense(units: 2, activation: function, bias: true, initializer: nil, weightDecay: nil), json)
            let standalone = try Model(json: small(encoder: #"[{"type": "dense", "units": 2}, {"type": "activation", "function": \#(json)}]"#))
            XCTAssertEqual(standalone.spec.encoder[1].kind, .activation(function), json)
        }
        let layer = try ModelSpec(json: small(encoder: #"[{"type": "dense", "units": 2}, {"type": "leaky_relu", "negative_slope": 0.3}]"#))
        XCTAssertEqual(layer.encoder[1].kind, .activation(.leakyReLU(negativeSlope: 0.3)))
    }

    func testEveryLoss() throws {
        let expected: [(String, ReconstructionLoss)] = [
            (#""mse""#, .mse), (#""l1""#, .l1), (#""huber""#, .huber(delta: 1)), (#"{"type": "huber", "delta": 0.5}"#, .huber(delta: 0.5)),
            (#""smooth_l1""#, .smoothL1(beta: 1)), (#"{"type": "smooth_l1", "beta": 2}"#, .smoothL1(beta: 2)),
            (#""bce""#, .bce), (#""bce_with_logits""#, .bceWithLogits), (#"{"type": "mse"}"#, .mse), ("null", .mse),
        ]
        for (json, loss) in expected {
            XCTAssertEqual(try Model(json: small(#""loss": \#(json)"#)).spec.loss, loss, json)
        }
    }

    func testEveryOptimizer() throws {
        let expected: [(String, OptimizerConfiguration)] = [
            (#"{"type": "sgd"}"#, .sgd(learningRate: 0.01, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0)),
            (#"{"type": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": true, "weight_decay": 0.001}"#,
             .sgd(learningRate: 0.1, momentum: 0.9, dampening: 0, nesterov: true, weightDecay: 0.001)),
            (#"{"type": "adam", "lr": 0.002, "betas": [0.8, 0.99], "eps": 1e-7}"#,
             .adam(learningRate: 0.002, beta1: 0.8, beta2: 0.99, epsilon: 1e-7, weightDecay: 0)),
            (#"{"type": "adamw"}"#, .adamW(learningRate: 0.001, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01)),
            (#"{"type": "rmsprop", "momentum": 0.5}"#, .rmsprop(learningRate: 0.01, alpha: 0.99, epsilon: 1e-8, momentum: 0.5, weightDecay: 0)),
            (#"{"type": "adagrad", "lr_decay": 0.1, "initial_accumulator_value": 0.2}"#,
             .adagrad(learningRate: 0.01, learningRateDecay: 0.1, epsilon: 1e-10, weightDecay: 0, initialAccumulator: 0.2)),
        ]
        for (json, configuration) in expected {
            XCTAssertEqual(try Model(json: small(#""optimizer": \#(json)"#)).spec.optimizer, configuration, json)
        }
    }

    func testEveryScheduleAndTheOtherRootKeys() throws {
        let spec = try ModelSpec(json: small(#"""
            "format": "autoencoders.spec", "version": 1, "name": "tiny", "seed": 42, "init": "xavier_normal",
            "schedule": {"type": "cosine", "t_max": 5, "eta_min": 0.001, "warmup_epochs": 1},
            "regularization": {"weight_decay": {"lambda": 0.001, "p": 1}}
            """#))
        XCTAssertEqual(spec.name, "tiny")
        XCTAssertEqual(spec.seed, 42)
        XCTAssertEqual(spec.initializer, .xavierNormal)
        XCTAssertEqual(spec.schedule, .init(.cosine(period: 5, minimum: 0.001), warmupEpochs: 1))
        XCTAssertEqual(spec.weightDecay, WeightDecay(lambda: 0.001, p: 1))
        for schedule in [#"{"type": "constant"}"#, #"{"type": "step", "step_size": 2}"#, #"{"type": "exponential", "gamma": 0.5}"#] {
            XCTAssertNoThrow(try Model(json: small(#""schedule": \#(schedule)"#)), schedule)
        }
        XCTAssertEqual(try ModelSpec(json: #"{"input_shape": [4], "encoder": [{"type": "dense", "units": 2}], "decoder": [{"type": "dense", "units": 4}]}"#).inputShape, [4])
    }

    /// Entries named and linked through "inputs"; a link to a dense entry with an activation reads the activation.
    func testNamedLinks() throws {
        let model = try Model(json: small(
            encoder: #"[{"type": "dense", "units": 3, "activation": "relu", "name": "hidden"}, {"type": "dense", "units": 2, "name": "code", "inputs": ["hidden"]}]"#,
            decoder: #"[{"type": "dense", "units": 4, "inputs": ["code"], "name": "out"}]"#))
        XCTAssertEqual(model.nodeNames, ["hidden", "hidden.relu", "code", "out"])
        XCTAssertEqual(model.graph.nodes.map(\.inputs), [[Graph.modelInput], [0], [1], [2]])
        XCTAssertEqual(model.parameterEntries.map(\.name), ["hidden.weight", "hidden.bias", "code.weight", "code.bias", "out.weight", "out.bias"])
        let fromInput = try Model(json: small(encoder: #"[{"type": "dense", "units": 2, "inputs": ["input"]}]"#))
        XCTAssertEqual(fromInput.graph.nodes[0].inputs, [Graph.modelInput])
    }

    // MARK: Invalid

    func testInvalidLayerFields() {
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3}, {"type": "dense", "units": -3}]"#, decoder: #"[{"type": "dense", "units": 4}]"#), path: "encoder[1].units")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3}, {"type": "dense", "units": 2.5}]"#), path: "encoder[1].units")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3}, {"type": "dense"}]"#), path: "encoder[1].units")
        assertInvalid(small(encoder: #"[{"type": "dense", "unit": 3}]"#), path: "encoder[0].unit")
        assertInvalid(small(encoder: #"[{"type": "conv9", "units": 3}]"#), path: "encoder[0].type")
        assertInvalid(small(encoder: #"[{"units": 3}]"#), path: "encoder[0].type")
        assertInvalid(small(encoder: #"[3]"#), path: "encoder[0]")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "activation": "relux"}]"#), path: "encoder[0].activation")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "activation": {"type": "relux"}}]"#), path: "encoder[0].activation.type")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "activation": {"type": "relu", "alpha": 1}}]"#), path: "encoder[0].activation.alpha")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "activation": {"type": "softplus", "beta": 0}}]"#), path: "encoder[0].activation.beta")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "bias": "yes"}]"#), path: "encoder[0].bias")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "init": "glorot"}]"#), path: "encoder[0].init")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "weight_decay": {"lambda": 0.1, "p": 3}}]"#), path: "encoder[0].weight_decay.p")
        assertInvalid(small(decoder: #"[{"type": "tanh", "alpha": 1}, {"type": "dense", "units": 4}]"#), path: "decoder[0].alpha")
    }

    func testInvalidRootFields() {
        assertInvalid(#"{"input_size": 4, "encoder": [{"type": "dense", "units": 2}]}"#, path: "decoder")
        assertInvalid(small(decoder: "[]"), path: "decoder")
        assertInvalid(small(decoder: #"{"type": "dense"}"#), path: "decoder")
        assertInvalid(#"{"encoder": [{"type": "dense", "units": 2}], "decoder": [{"type": "dense", "units": 4}]}"#, path: "input_size")
        assertInvalid(small(#""input_shape": [4]"#), path: "input_size")
        assertInvalid(small(#""foo": 1"#), path: "foo")
        assertInvalid(small(#""version": 2"#), path: "version")
        assertInvalid(small(#""format": "keras""#), path: "format")
        assertInvalid(small(#""seed": -1"#), path: "seed")
        assertInvalid(small(#""tied_weights": "yes""#), path: "tied_weights")
        assertInvalid(small(#""init": "glorot""#), path: "init")
        assertInvalid(small(#""regularization": {"weight_decay": {"lambda": -1}}"#), path: "regularization.weight_decay.lambda")
        assertInvalid(small(#""regularization": {"dropout": 0.5}"#), path: "regularization.dropout")
        assertInvalid("[1, 2]", path: "")
        assertInvalid("{\"input_size\": 4,", path: "")
    }

    func testInvalidLossOptimizerAndSchedule() {
        assertInvalid(small(#""loss": {"type": "huber", "delta": 0}"#), path: "loss.delta")
        assertInvalid(small(#""loss": {"type": "huber", "beta": 1}"#), path: "loss.beta")
        // Cross-entropy makes a segmentation model, whose output needs [classes] + spatial dimensions.
        assertInvalid(small(#""loss": {"type": "cross_entropy"}"#), path: "decoder")
        assertInvalid(small(#""loss": {"type": "cross_entropy", "ignore": 1}"#), path: "loss.ignore")
        assertInvalid(small(#""loss": "mae""#), path: "loss")
        assertInvalid(small(#""optimizer": {"type": "adam", "betas": [0.9]}"#), path: "optimizer.betas")
        assertInvalid(small(#""optimizer": {"type": "adam", "betas": [0.9, 1.0]}"#), path: "optimizer.betas")
        assertInvalid(small(#""optimizer": {"type": "adam", "lr": 0}"#), path: "optimizer.lr")
        assertInvalid(small(#""optimizer": {"type": "adam", "learning_rate": 0.1}"#), path: "optimizer.learning_rate")
        assertInvalid(small(#""optimizer": {"type": "lbfgs"}"#), path: "optimizer.type")
        // Numbers are stored as Float: one that overflows to ∞ or underflows to 0 is out of range.
        assertInvalid(small(#""optimizer": {"type": "adam", "lr": 1e39}"#), path: "optimizer.lr")
        assertInvalid(small(#""optimizer": {"type": "adam", "eps": 1e-50}"#), path: "optimizer.eps")
        assertInvalid(small(#""regularization": {"weight_decay": {"lambda": 1e300}}"#), path: "regularization.weight_decay.lambda")
        assertInvalid(small(#""optimizer": {"type": "sgd", "nesterov": true}"#), path: "optimizer.nesterov")
        assertInvalid(small(#""optimizer": {"type": "sgd", "momentum": 1}"#), path: "optimizer.momentum")
        assertInvalid(small(#""optimizer": "adam""#), path: "optimizer")
        assertInvalid(small(#""schedule": {"type": "step"}"#), path: "schedule.step_size")
        assertInvalid(small(#""schedule": {"type": "exponential", "gamma": 1.5}"#), path: "schedule.gamma")
        assertInvalid(small(#""schedule": {"type": "cosine", "t_max": 5, "gamma": 0.1}"#), path: "schedule.gamma")
        assertInvalid(small(#""schedule": {"type": "constant", "warmup_epochs": -1}"#), path: "schedule.warmup_epochs")
    }

    func testInvalidGraphs() {
        // Output shape ≠ input shape.
        assertInvalid(small(decoder: #"[{"type": "dense", "units": 5}]"#), path: "decoder")
        // Tied weights without a mirror image: too few, too many, or mismatched decoder layers.
        assertInvalid(small(#""tied_weights": true"#, encoder: #"[{"type": "dense", "units": 4}, {"type": "dense", "units": 2}]"#,
                            decoder: #"[{"type": "dense", "units": 4}]"#), path: "tied_weights")
        assertInvalid(small(#""tied_weights": true"#, decoder: #"[{"type": "dense", "units": 4}, {"type": "dense", "units": 4}]"#), path: "decoder[1]")
        assertInvalid(small(#""tied_weights": true"#, encoder: #"[{"type": "dense", "units": 3}, {"type": "dense", "units": 2}]"#,
                            decoder: #"[{"type": "dense", "units": 4}, {"type": "dense", "units": 4}]"#), path: "decoder[0]")
        // Duplicate names, also against the activation node a dense entry adds.
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3, "name": "a"}, {"type": "dense", "units": 2, "name": "a"}]"#), path: "encoder[1]")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3, "name": "a", "activation": "relu"}, {"type": "relu", "name": "a.relu"}, {"type": "dense", "units": 2}]"#),
                      path: "encoder[1]")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 2, "name": ""}]"#), path: "encoder[0].name")
        // Links: unknown target, a later node, not a string, empty, two inputs to a dense layer.
        assertInvalid(small(decoder: #"[{"type": "dense", "units": 4, "inputs": ["nowhere"]}]"#), path: "decoder[0].inputs[0]")
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3, "inputs": ["later"]}, {"type": "dense", "units": 2, "name": "later"}]"#),
                      path: "encoder[0].inputs[0]")
        assertInvalid(small(decoder: #"[{"type": "dense", "units": 4, "inputs": [0]}]"#), path: "decoder[0].inputs[0]")
        assertInvalid(small(decoder: #"[{"type": "dense", "units": 4, "inputs": []}]"#), path: "decoder[0].inputs")
        assertInvalid(small(decoder: #"[{"type": "dense", "units": 4, "inputs": ["encoder.0", "input"]}]"#), path: "decoder[0].inputs")
        // A dangling node: encoder[0] feeds nothing, because encoder[1] reads the model input.
        assertInvalid(small(encoder: #"[{"type": "dense", "units": 3, "activation": "relu"}, {"type": "dense", "units": 2, "inputs": ["input"]}]"#),
                      path: "encoder[0]")
    }
}
