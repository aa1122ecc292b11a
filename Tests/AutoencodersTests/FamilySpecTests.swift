import XCTest
@testable import Autoencoders

/// The spec keys of the autoencoder families (regularization.sparsity, regularization.contractive,
/// noise, the correntropy loss, k_sparse layers): each parses into what it says, and each bad value
/// is an `.invalidSpec` error whose message starts with its exact JSON path.
final class FamilySpecTests: XCTestCase {
    /// A 6→4→6 model with a dense code of the given activation (`nil`: none), and `extra` root keys.
    private func spec(_ extra: String = "", code: String? = "sigmoid", encoder: String? = nil) -> String {
        let activation = code.map { #", "activation": "\#($0)""# } ?? ""
        let layers = encoder ?? #"[{"type": "dense", "units": 4\#(activation)}]"#
        return #"{"input_size": 6, "encoder": \#(layers), "decoder": [{"type": "dense", "units": 6}]\#(extra.isEmpty ? "" : ", " + extra)}"#
    }

    private func assertInvalid(_ json: String, path: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let error = assertThrows(.invalidSpec, { () throws(AutoencoderError) in try Model(json: json) }, file: file, line: line) else { return }
        XCTAssertTrue(error.message.hasPrefix(path + ": "), "\"\(error.message)\" should start with \"\(path): \"", file: file, line: line)
        XCTAssertFalse(error.message.hasPrefix(path + "."), "the path is more specific than expected: \(error.message)", file: file, line: line)
    }

    // MARK: Valid

    func testEveryFamilyKeyParses() throws {
        let kl = try Model(json: spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.05, "weight": 3}}"#))
        XCTAssertEqual(kl.spec.sparsity, .kl(target: 0.05, weight: 3))
        let l1 = try Model(json: spec(#""regularization": {"sparsity": {"type": "l1", "weight": 0.1}}"#, code: "relu"))
        XCTAssertEqual(l1.spec.sparsity, .l1(weight: 0.1))
        let contractive = try Model(json: spec(#""regularization": {"contractive": {"weight": 0.5}}"#, code: "tanh"))
        XCTAssertEqual(contractive.spec.contractiveWeight, 0.5)
        let all = try Model(json: spec(#""regularization": {"weight_decay": {"lambda": 0.01}, "sparsity": {"type": "kl", "target": 0.1, "weight": 1}, "contractive": {"weight": 0.2}}, "noise": {"type": "masking", "fraction": 0.3}, "loss": {"type": "correntropy", "sigma": 2}"#))
        XCTAssertEqual(all.spec.sparsity, .kl(target: 0.1, weight: 1))
        XCTAssertEqual(all.spec.contractiveWeight, 0.2)
        XCTAssertEqual(all.spec.weightDecay?.lambda, 0.01)
        XCTAssertEqual(all.spec.noise, .masking(fraction: 0.3))
        XCTAssertEqual(all.spec.loss, .correntropy(sigma: 2))
        XCTAssertTrue(all.objective.hasCodeTerms)
        // Boundary values that are allowed: zero weights and stddev, fractions 0 and 1.
        for extra in [#""regularization": {"sparsity": {"type": "l1", "weight": 0}, "contractive": {"weight": 0}}"#,
                      #""noise": {"type": "gaussian", "stddev": 0}"#, #""noise": {"type": "masking", "fraction": 0}"#,
                      #""noise": {"type": "masking", "fraction": 1}"#, #""noise": {"type": "salt_and_pepper", "fraction": 1, "low": -1, "high": 1}"#] {
            XCTAssertNoThrow(try Model(json: spec(extra)), extra)
        }
        // A k_sparse code after a dense layer.
        let kSparse = try Model(json: spec(encoder: #"[{"type": "dense", "units": 8}, {"type": "k_sparse", "k": 5}]"#))
        XCTAssertEqual(kSparse.spec.encoder[1].kind, .kSparse(k: 5))
        // None of them: no code terms, no noise.
        let plain = try Model(json: spec())
        XCTAssertNil(plain.spec.sparsity)
        XCTAssertNil(plain.spec.contractiveWeight)
        XCTAssertNil(plain.spec.noise)
        XCTAssertFalse(plain.objective.hasCodeTerms)
    }

    /// The family keys are kept with the spec in the model file.
    func testFamilyKeysSurviveTheModelFile() throws {
        let model = try Model(json: spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.2, "weight": 2}, "contractive": {"weight": 0.3}}, "noise": {"type": "gaussian", "stddev": 0.1, "clip": [0, 1]}, "loss": {"type": "correntropy", "sigma": 0.5}"#))
        let loaded = try Model.load(bytes: try model.serialized())
        XCTAssertEqual(loaded.spec, model.spec)
        XCTAssertEqual(loaded.spec.noise, .gaussian(stddev: 0.1, clip: 0...1))
    }

    // MARK: Invalid

    func testSparsityValuesAreChecked() {
        for target in ["0", "1", "-0.1", "1.5", "\"a\""] {
            assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "target": \#(target), "weight": 1}}"#), path: "regularization.sparsity.target")
        }
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "weight": 1}}"#), path: "regularization.sparsity.target")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.05, "weight": -1}}"#), path: "regularization.sparsity.weight")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "l1", "weight": -0.5}}"#), path: "regularization.sparsity.weight")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "l1"}}"#), path: "regularization.sparsity.weight")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "l2", "weight": 1}}"#), path: "regularization.sparsity.type")
        assertInvalid(spec(#""regularization": {"sparsity": {"weight": 1}}"#), path: "regularization.sparsity.type")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "l1", "weight": 1, "target": 0.1}}"#), path: "regularization.sparsity.target")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.1, "weight": 1, "rho": 0.1}}"#), path: "regularization.sparsity.rho")
        assertInvalid(spec(#""regularization": {"sparsity": 3}"#), path: "regularization.sparsity")
        assertInvalid(spec(#""regularization": {"sparse": {"type": "l1", "weight": 1}}"#), path: "regularization.sparse")
    }

    func testKLSparsityNeedsASigmoidCode() {
        for code in ["relu", "tanh", "identity"] {
            assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.05, "weight": 1}}"#, code: code), path: "regularization.sparsity")
        }
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.05, "weight": 1}}"#, code: nil), path: "regularization.sparsity")
        assertInvalid(spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.05, "weight": 1}}"#,
                           encoder: #"[{"type": "dense", "units": 8, "activation": "sigmoid"}, {"type": "k_sparse", "k": 3}]"#),
                      path: "regularization.sparsity")
        // A standalone sigmoid layer as the code is a sigmoid code.
        XCTAssertNoThrow(try Model(json: spec(#""regularization": {"sparsity": {"type": "kl", "target": 0.05, "weight": 1}}"#,
                                              encoder: #"[{"type": "dense", "units": 4}, {"type": "sigmoid"}]"#)))
    }

    func testContractiveValuesAndCodeAreChecked() {
        assertInvalid(spec(#""regularization": {"contractive": {"weight": -0.1}}"#), path: "regularization.contractive.weight")
        assertInvalid(spec(#""regularization": {"contractive": {}}"#), path: "regularization.contractive.weight")
        assertInvalid(spec(#""regularization": {"contractive": {"weight": 1, "lambda": 1}}"#), path: "regularization.contractive.lambda")
        assertInvalid(spec(#""regularization": {"contractive": 0.5}"#), path: "regularization.contractive")
        for code in ["relu", "identity", "softplus"] {
            assertInvalid(spec(#""regularization": {"contractive": {"weight": 0.5}}"#, code: code), path: "regularization.contractive")
        }
        assertInvalid(spec(#""regularization": {"contractive": {"weight": 0.5}}"#, code: nil), path: "regularization.contractive")
        assertInvalid(spec(#""regularization": {"contractive": {"weight": 0.5}}"#,
                           encoder: #"[{"type": "dense", "units": 8, "activation": "sigmoid"}, {"type": "k_sparse", "k": 3}]"#),
                      path: "regularization.contractive")
        // A sigmoid that does not follow a dense layer has no closed form either.
        assertInvalid(spec(#""regularization": {"contractive": {"weight": 0.5}}"#,
                           encoder: #"[{"type": "dense", "units": 4, "activation": "tanh"}, {"type": "sigmoid"}]"#),
                      path: "regularization.contractive")
    }

    func testWeightDecayLambdaIsChecked() {
        assertInvalid(spec(#""regularization": {"weight_decay": {"lambda": -0.01}}"#), path: "regularization.weight_decay.lambda")
    }

    func testNoiseValuesAreChecked() {
        assertInvalid(spec(#""noise": {"type": "gaussian", "stddev": -0.1}"#), path: "noise.stddev")
        assertInvalid(spec(#""noise": {"type": "gaussian"}"#), path: "noise.stddev")
        for clip in ["[1, 0]", "[0.5, 0.5]", "[0]", "[0, 1, 2]", "[\"a\", 1]", "0.5"] {
            assertInvalid(spec(#""noise": {"type": "gaussian", "stddev": 0.1, "clip": \#(clip)}"#), path: "noise.clip")
        }
        for fraction in ["1.01", "-0.1", "2"] {
            assertInvalid(spec(#""noise": {"type": "masking", "fraction": \#(fraction)}"#), path: "noise.fraction")
            assertInvalid(spec(#""noise": {"type": "salt_and_pepper", "fraction": \#(fraction)}"#), path: "noise.fraction")
        }
        assertInvalid(spec(#""noise": {"type": "masking"}"#), path: "noise.fraction")
        assertInvalid(spec(#""noise": {"type": "dropout", "fraction": 0.1}"#), path: "noise.type")
        assertInvalid(spec(#""noise": {"fraction": 0.1}"#), path: "noise.type")
        assertInvalid(spec(#""noise": {"type": "masking", "fraction": 0.1, "stddev": 1}"#), path: "noise.stddev")
        assertInvalid(spec(#""noise": {"type": "salt_and_pepper", "fraction": 0.1, "low": "x"}"#), path: "noise.low")
        assertInvalid(spec(#""noise": "gaussian""#), path: "noise")
    }

    func testCorrentropySigmaIsChecked() {
        for sigma in ["0", "-1", "1e-50", "\"wide\""] {
            assertInvalid(spec(#""loss": {"type": "correntropy", "sigma": \#(sigma)}"#), path: "loss.sigma")
        }
        assertInvalid(spec(#""loss": {"type": "correntropy", "sigma": 1, "delta": 1}"#), path: "loss.delta")
    }

    func testKSparseValuesAreChecked() {
        assertInvalid(spec(encoder: #"[{"type": "dense", "units": 8}, {"type": "k_sparse", "k": 9}]"#), path: "encoder[1].k")
        assertInvalid(spec(encoder: #"[{"type": "dense", "units": 8}, {"type": "k_sparse", "k": 0}]"#), path: "encoder[1].k")
        assertInvalid(spec(encoder: #"[{"type": "dense", "units": 8}, {"type": "k_sparse", "k": 2.5}]"#), path: "encoder[1].k")
        assertInvalid(spec(encoder: #"[{"type": "dense", "units": 8}, {"type": "k_sparse"}]"#), path: "encoder[1].k")
        assertInvalid(spec(encoder: #"[{"type": "dense", "units": 8}, {"type": "k_sparse", "k": 2, "units": 3}]"#), path: "encoder[1].units")
    }
}
