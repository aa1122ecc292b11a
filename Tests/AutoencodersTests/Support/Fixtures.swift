import XCTest
@testable import Autoencoders

/// The PyTorch golden values in Tests/Fixtures/torch (see Tests/Fixtures/README.md): `.npy` arrays
/// read with the module's NPY reader, and per-file tolerances read from MANIFEST.json with the
/// module's JSON parser.
///
/// A golden test loads a case's inputs, runs our code, and checks each output or gradient file
/// elementwise as numpy.allclose does: |ours − ref| <= atol + rtol·|ref|, with that file's rtol and atol.
enum Fixtures {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// An output or grad file's tolerance, from its MANIFEST.json entry.
    struct Tolerance {
        var rtol: Double
        var atol: Double
    }

    /// The repository root: this file is <root>/Tests/AutoencodersTests/Support/Fixtures.swift.
    static let repository: String = {
        var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(4)
        return parts.joined(separator: "/")
    }()

    static let torchDirectory = repository + "/Tests/Fixtures/torch"

    static func path(_ caseName: String, _ file: String) -> String { "\(torchDirectory)/\(caseName)/\(file)" }

    /// The float32 values of `<case>/<name>.npy`, in row-major order.
    static func values(_ caseName: String, _ name: String) throws -> [Float] {
        try NPY.read(path: path(caseName, name + ".npy")).values
    }

    /// The shape of `<case>/<name>.npy`.
    static func shape(_ caseName: String, _ name: String) throws -> [Int] {
        try NPY.read(path: path(caseName, name + ".npy")).shape
    }

    /// An int64 index fixture, exactly.
    static func integers(_ caseName: String, _ name: String) throws -> [Int] {
        try NPY.readIntegers(path: path(caseName, name + ".npy")).values
    }

    // MARK: MANIFEST.json

    /// The manifest's cases by name, parsed once.
    private static let cases: Result<[String: JSONObject], Missing> = {
        let manifestPath = torchDirectory + "/MANIFEST.json"
        do {
            let bytes = try FileIO.readAll(path: manifestPath)
            let json = try bytes.withUnsafeBytes { raw throws(JSONParseError) in try JSON.parse(bytes: raw) }
            var cases: [String: JSONObject] = [:]
            for entry in json.objectValue?["cases"]?.arrayValue ?? [] {
                if let object = entry.objectValue, let name = object["name"]?.stringValue { cases[name] = object }
            }
            return .success(cases)
        } catch {
            return .failure(Missing(description: "\(manifestPath): \(error)"))
        }
    }()

    /// The manifest entry of one case.
    static func manifestCase(_ caseName: String) throws -> JSONObject {
        guard let entry = try cases.get()[caseName] else { throw Missing(description: "MANIFEST.json has no case \(caseName)") }
        return entry
    }

    /// The case's "hyperparameters" object.
    static func hyperparameters(_ caseName: String) throws -> JSONObject {
        try manifestCase(caseName)["hyperparameters"]?.objectValue ?? JSONObject()
    }

    /// The rtol/atol written on the manifest entry of `<case>/<name>.npy`.
    static func tolerance(_ caseName: String, _ name: String) throws -> Tolerance {
        let files = try manifestCase(caseName)["files"]?.arrayValue ?? []
        guard let entry = files.compactMap(\.objectValue).first(where: { $0["file"]?.stringValue == name + ".npy" }),
              let rtol = entry["rtol"]?.doubleValue, let atol = entry["atol"]?.doubleValue else {
            throw Missing(description: "MANIFEST.json has no tolerance for \(caseName)/\(name).npy")
        }
        return Tolerance(rtol: rtol, atol: atol)
    }

    /// Checks `ours` against the reference file `<case>/<name>.npy` at the manifest's tolerance.
    static func assertGolden(_ ours: [Float], _ caseName: String, _ name: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let reference = try values(caseName, name)
        let tolerance = try tolerance(caseName, name)
        assertClose(ours, reference, rtol: tolerance.rtol, atol: tolerance.atol, "\(caseName)/\(name)", file: file, line: line)
    }
}

/// Asserts |ours − ref| <= atol + rtol·|ref| elementwise (numpy.allclose). On failure it reports how
/// many elements fail and the worst one: its index, both values and its ratio |diff| / (atol + rtol·|ref|).
/// Returns the worst ratio (a NaN anywhere counts as infinite).
@discardableResult
func assertClose(_ ours: [Float], _ reference: [Float], rtol: Double, atol: Double, _ name: String,
                 file: StaticString = #filePath, line: UInt = #line) -> Double {
    guard ours.count == reference.count else {
        XCTFail("\(name): \(ours.count) values, the reference has \(reference.count)", file: file, line: line)
        return .infinity
    }
    var worst = 0.0, worstIndex = -1, failures = 0
    for i in ours.indices {
        let o = Double(ours[i]), r = Double(reference[i])
        let ratio = o.isNaN || r.isNaN ? (o.isNaN && r.isNaN ? 0 : .infinity)
            : (o == r ? 0 : abs(o - r) / (atol + rtol * abs(r)))
        if ratio > 1 { failures += 1 }
        if ratio > worst || worstIndex < 0 { worst = ratio; worstIndex = i }
    }
    if failures > 0 {
        let i = worstIndex
        XCTFail("\(name): \(failures) of \(ours.count) elements outside rtol \(rtol), atol \(atol); worst [\(i)]: "
                + "ours \(ours[i]), ref \(reference[i]), |diff| \(abs(Double(ours[i]) - Double(reference[i]))) "
                + "= \(worst) × (atol + rtol·|ref|)", file: file, line: line)
    }
    return worst
}

/// The tolerance used where no fixture gives one: relative to the reference's largest magnitude.
func assertClose(_ ours: [Float], _ reference: [Float], relative: Double, _ name: String,
                 file: StaticString = #filePath, line: UInt = #line) {
    let scale = reference.reduce(0.0) { max($0, Double(abs($1))) }
    assertClose(ours, reference, rtol: relative, atol: relative * max(scale, 1e-30), name, file: file, line: line)
}

/// Asserts bit-for-bit equality (what determinism promises), reporting how many elements differ
/// and the first of them rather than both whole arrays.
func assertIdentical(_ ours: [Float], _ expected: [Float], _ name: String, file: StaticString = #filePath, line: UInt = #line) {
    guard ours.count == expected.count else {
        return XCTFail("\(name): \(ours.count) values, expected \(expected.count)", file: file, line: line)
    }
    let differing = ours.indices.filter { ours[$0].bitPattern != expected[$0].bitPattern }
    if let first = differing.first {
        XCTFail("\(name): \(differing.count) of \(ours.count) values differ; first [\(first)]: \(ours[first]) vs \(expected[first])",
                file: file, line: line)
    }
}

/// Runs `body` and returns the error it throws, failing the test if it throws none or another kind.
@discardableResult
func assertThrows<T>(_ kind: AutoencoderError.Kind, _ body: () throws(AutoencoderError) -> T,
                     file: StaticString = #filePath, line: UInt = #line) -> AutoencoderError? {
    do {
        _ = try body()
        XCTFail("expected a .\(kind) error, but nothing was thrown", file: file, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.kind, kind, "error message: \(error.message)", file: file, line: line)
        return error
    }
}

/// Deterministic test data: `count` values uniform in [low, high).
func randomValues(_ count: Int, _ low: Float, _ high: Float, seed: UInt64) -> [Float] {
    var random = RandomGenerator(seed: seed)
    return (0..<count).map { _ in random.uniform(low, high) }
}
