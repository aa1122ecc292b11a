import XCTest
@testable import Autoencoders

/// Inference reads the caller's rows where they are when a model has no input scaling
/// (`Workspace.reading`): the rows must come back untouched (no layer writes its inputs), the
/// results must be those of a copy of the rows, whatever their alignment, and the workspace must
/// read its own input buffer again afterwards (score and training still copy into it). A
/// reconstruction's output node writes the caller's output rows (`Workspace.writing`), which
/// must give the bits of the copy that a call whose output overlaps its input still makes.
final class InferenceInPlaceTests: XCTestCase {
    /// A dense model, a convolutional one with a SegNet index link, and a recurrent one.
    static let specs: [(name: String, json: String, features: Int)] = [
        ("dense", ModelTests.spec(loss: "bce_with_logits"), 12),
        ("convolutional", ModelBTests.spec, 64),
        ("recurrent", SequenceLengthTests.spec, 12),
    ]

    func testRowsAreReadInPlaceUntouchedAndGiveTheResultsOfACopy() throws {
        for (name, json, features) in Self.specs {
            let model = try Model(json: json)
            let rows = 5, count = rows * features
            let values = randomValues(count, -1, 1, seed: 17)
            let shape = [rows] + model.inputShape
            let expected = try model.reconstruct(try Tensor(shape: shape, values: values)).values
            let code = try model.encode(try Tensor(shape: shape, values: values)).values
            // The same rows one float into a larger array: 4-byte aligned, not 16 or 64.
            var shifted = [Float](repeating: 7, count: count + 1)
            shifted.replaceSubrange(1..., with: values)
            let before = shifted.map(\.bitPattern)
            var output = [Float](repeating: .nan, count: count)
            var codes = [Float](repeating: .nan, count: rows * model.codeSize)
            try shifted.withUnsafeBufferPointer { x in
                try output.withUnsafeMutableBufferPointer { try model.reconstruct(x.baseAddress! + 1, rows: rows, into: $0.baseAddress!) }
                try codes.withUnsafeMutableBufferPointer { try model.encode(x.baseAddress! + 1, rows: rows, into: $0.baseAddress!) }
            }
            XCTAssertEqual(shifted.map(\.bitPattern), before, "\(name): the caller's rows were written")
            XCTAssertEqual(output.map(\.bitPattern), expected.map(\.bitPattern), "\(name): reconstruct from unaligned rows")
            XCTAssertEqual(codes.map(\.bitPattern), code.map(\.bitPattern), "\(name): encode from unaligned rows")
        }
    }

    /// After a call that read the caller's rows, score (which copies them, as it compares against
    /// them) and training read the workspace's buffer again: the same results as a fresh model's.
    func testCopyingPathsReadTheirOwnBufferAfterAnInPlaceCall() throws {
        let json = ModelTests.spec()
        let used = try Model(json: json), fresh = try Model(json: json)
        let a = try ModelTests.data(rows: 9, seed: 1), b = try ModelTests.data(rows: 9, seed: 2)
        _ = try used.reconstruct(a)
        XCTAssertEqual(try used.score(b).map(\.bitPattern), try fresh.score(b).map(\.bitPattern))
        var options = TrainingOptions()
        options.epochs = 2
        options.batchSize = 4
        _ = try used.reconstruct(a)
        _ = try used.fit(b, options: options)
        _ = try fresh.fit(b, options: options)
        XCTAssertEqual(try used.reconstruct(a).values.map(\.bitPattern), try fresh.reconstruct(a).values.map(\.bitPattern))
    }

    /// Reconstructions written by the output node into the caller's rows (any alignment, over
    /// several chunks, with an output activation, input scaling or padded sequence steps to
    /// finish in place) equal those copied out of the workspace, which a call whose output is its
    /// input makes; and a model whose output node shares its buffer (a ReLU in place) is correct.
    func testTheOutputNodeWritesTheCallersRowsAsTheCopyWould() throws {
        let relu = ModelTests.spec(outputActivation: "relu")
        let cases = Self.specs + [("output ReLU in place", relu, 12)]
        for (name, json, features) in cases {
            for scaled in [false, true] {
                let model = try Model(json: json)
                if scaled {
                    try model.setInputScaling(try InputScaling(offset: [Float](repeating: 0.25, count: features),
                                                               scale: [Float](repeating: 2, count: features)))
                }
                let rows = 300, count = rows * features    // two chunks of at most 256 rows
                let values = randomValues(count, -1, 1, seed: 23)
                let lengths = (0..<rows).map { Int32(1 + $0 % 4) }
                let sequence = model.isSequenceModel
                var copied = values     // the call's output is its input: the copy path
                var written = [Float](repeating: .nan, count: count + 1)
                try values.withUnsafeBufferPointer { x in
                    try lengths.withUnsafeBufferPointer { l in
                        let l = sequence ? l.baseAddress! : nil
                        try copied.withUnsafeMutableBufferPointer {
                            try model.reconstruct($0.baseAddress!, rows: rows, lengths: l, into: $0.baseAddress!)
                        }
                        try written.withUnsafeMutableBufferPointer {
                            try model.reconstruct(x.baseAddress!, rows: rows, lengths: l, into: $0.baseAddress! + 1)
                        }
                    }
                }
                let label = "\(name)\(scaled ? ", input scaling" : "")"
                XCTAssertEqual(written.dropFirst().map(\.bitPattern), copied.map(\.bitPattern), label)
                XCTAssertTrue(copied.allSatisfy(\.isFinite), label)
            }
        }
    }
}
