// Inference: encode, decode, reconstruct and score over caller buffers. These take no writer
// lock: the core runs any number of them at once on one model (under its read lock).

import Autoencoders

@_cdecl("ae_model_encode")
public func ae_model_encode(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                            _ code: UnsafeMutablePointer<Float>?, _ codeCount: UInt) -> Int32 {
    guarded("ae_model_encode") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try requireFloatInput(model, tokenCall: "ae_model_encode_tokens")
        let input = try required(input, "input", "n * input size floats")
        let code = try required(code, "code", "a buffer of n * code size floats")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        _ = try expectCount(codeCount, "code_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        try model.encode(input, rows: rows, into: code)
    }
}

@_cdecl("ae_model_decode")
public func ae_model_decode(_ handle: OpaquePointer?, _ code: UnsafePointer<Float>?, _ n: UInt, _ codeCount: UInt,
                            _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_decode") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try model.requireReconstruction("decode")
        let code = try required(code, "code", "n * code size floats")
        let output = try required(output, "output", "a buffer of n * input size floats")
        let rows = try asInt(n, "n")
        _ = try expectCount(codeCount, "code_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        _ = try expectCount(outputCount, "output_count", rows: ("n", rows), perRow: ("input size", model.outputSize))
        try model.decode(code, rows: rows, into: output)
    }
}

@_cdecl("ae_model_reconstruct")
public func ae_model_reconstruct(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                                 _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_reconstruct") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try model.requireReconstruction("reconstruct")
        let input = try required(input, "input", "n * input size floats")
        let output = try required(output, "output", "a buffer of n * input size floats")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        _ = try expectCount(outputCount, "output_count", rows: ("n", rows), perRow: ("input size", model.outputSize))
        try model.reconstruct(input, rows: rows, into: output)
    }
}

@_cdecl("ae_model_score")
public func ae_model_score(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                           _ scores: UnsafeMutablePointer<Float>?, _ scoresCount: UInt) -> Int32 {
    guarded("ae_model_score") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try requireFloatInput(model, tokenCall: "ae_model_score_tokens")
        let input = try required(input, "input", "n * input size floats")
        let scores = try required(scores, "scores", "a buffer of n floats")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        guard scoresCount == n else { throw .shapeMismatch("scores_count is \(scoresCount) but n = \(n) was expected") }
        try model.score(input, rows: rows, into: scores)
    }
}

@_cdecl("ae_model_inpaint")
public func ae_model_inpaint(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ mask: UnsafePointer<Float>?,
                             _ n: UInt, _ inputCount: UInt,
                             _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_inpaint") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try model.requireReconstruction("inpaint")
        let input = try required(input, "input", "n * input size floats")
        let mask = try required(mask, "mask", "n * input size floats, 1 where an input is known and 0 where it is missing")
        let output = try required(output, "output", "a buffer of n * input size floats")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        _ = try expectCount(outputCount, "output_count", rows: ("n", rows), perRow: ("input size", model.outputSize))
        try model.inpaint(input, mask: mask, rows: rows, into: output)
    }
}

@_cdecl("ae_model_segment")
public func ae_model_segment(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                             _ labels: UnsafeMutablePointer<Int32>?, _ labelsCount: UInt) -> Int32 {
    guarded("ae_model_segment") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try requireFloatInput(model, tokenCall: "the _tokens calls")
        let input = try required(input, "input", "n * input size floats")
        let labels = try required(labels, "labels", "a buffer of n * label size int32")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        _ = try expectCount(labelsCount, "labels_count", rows: ("n", rows), perRow: ("label size", model.labelSize))
        try model.segment(input, rows: rows, into: labels)
    }
}

@_cdecl("ae_model_encode_distribution")
public func ae_model_encode_distribution(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                                         _ mean: UnsafeMutablePointer<Float>?, _ meanCount: UInt,
                                         _ logVariance: UnsafeMutablePointer<Float>?, _ logVarianceCount: UInt) -> Int32 {
    guarded("ae_model_encode_distribution") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try requireFloatInput(model, tokenCall: "the _tokens calls")
        let input = try required(input, "input", "n * input size floats")
        let mean = try required(mean, "mean", "a buffer of n * code size floats")
        let logVariance = try required(logVariance, "logvar", "a buffer of n * code size floats")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        _ = try expectCount(meanCount, "mean_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        _ = try expectCount(logVarianceCount, "logvar_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        try model.encodeDistribution(input, rows: rows, mean: mean, logVariance: logVariance)
    }
}

@_cdecl("ae_model_generate")
public func ae_model_generate(_ handle: OpaquePointer?, _ n: UInt, _ seed: UInt64,
                              _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_generate") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try model.requireReconstruction("generate")
        let output = try required(output, "output", "a buffer of n * input size floats")
        let rows = try asInt(n, "n")
        _ = try expectCount(outputCount, "output_count", rows: ("n", rows), perRow: ("input size", model.outputSize))
        try model.generate(rows: rows, seed: seed, into: output)
    }
}

@_cdecl("ae_model_interpolate")
public func ae_model_interpolate(_ handle: OpaquePointer?, _ a: UnsafePointer<Float>?, _ b: UnsafePointer<Float>?, _ steps: UInt,
                                 _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_interpolate") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try model.requireReconstruction("interpolate")
        let a = try required(a, "a", "input size floats (one sample)")
        let b = try required(b, "b", "input size floats (one sample)")
        let output = try required(output, "output", "a buffer of steps * input size floats")
        let count = try asInt(steps, "steps")
        guard count >= 2, count <= 1 << 20 else { throw .invalidArgument("steps is \(steps); expected 2 to 1048576") }
        _ = try expectCount(outputCount, "output_count", rows: ("steps", count), perRow: ("input size", model.outputSize))
        try model.interpolate(a, b, steps: count, into: output)
    }
}

@_cdecl("ae_model_sample_codes")
public func ae_model_sample_codes(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                                  _ seed: UInt64, _ codes: UnsafeMutablePointer<Float>?, _ codesCount: UInt) -> Int32 {
    guarded("ae_model_sample_codes") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try requireFloatInput(model, tokenCall: "the _tokens calls")
        let input = try required(input, "input", "n * input size floats")
        let codes = try required(codes, "codes", "a buffer of n * code size floats")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        _ = try expectCount(codesCount, "codes_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        try model.sampleCodes(input, rows: rows, seed: seed, into: codes)
    }
}
