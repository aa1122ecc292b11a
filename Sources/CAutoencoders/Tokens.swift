// Token (text) models: int32 token ids [n, T] in, per-step logits [T, V] out. The ids are checked
// here (each in 0..V-1, naming the first bad element) and handed to the core as exact floats.

import Autoencoders

/// `count` token ids as the core's floats, each checked to lie in 0..<V first.
private func tokensAsFloats(_ tokens: UnsafePointer<Int32>, count: Int, model: Model, name: String = "tokens") throws(AutoencoderError) -> [Float] {
    guard canAllocate(count * MemoryLayout<Float>.stride) else { throw .init(.outOfMemory, "cannot allocate \(count) token ids") }
    var values = [Float](repeating: 0, count: count)
    try values.withUnsafeMutableBufferPointer { (buffer) throws(AutoencoderError) in
        if let base = buffer.baseAddress { try convertTokens(tokens, count: count, model: model, name: name, into: base) }
    }
    return values
}

/// Writes `count` ids into `values` as floats, refusing any outside 0..<V.
private func convertTokens(_ tokens: UnsafePointer<Int32>, count: Int, model: Model, name: String,
                           into values: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
    let vocabulary = model.vocabularySize, steps = max(model.inputSize, 1)
    for i in 0..<count {
        let id = Int(tokens[i])
        guard id >= 0 && id < vocabulary else {
            throw .invalidArgument("\(name)[\(i)] (sample \(i / steps), step \(i % steps)) = \(id) is not a token id in 0..\(vocabulary - 1) (the vocabulary has V = \(vocabulary))")
        }
        values[i] = Float(id)
    }
}

/// The common checks of the token calls: a token model, the ids' count and the lengths.
private func tokenCall(_ model: Model, _ operation: String, _ tokens: UnsafePointer<Int32>?, _ n: UInt, _ count: UInt,
                       _ lengths: UnsafePointer<Int32>?, _ lengthsCount: UInt) throws(AutoencoderError)
    -> (tokens: UnsafePointer<Int32>, rows: Int, lengths: UnsafePointer<Int32>?) {
    try model.requireTokenModel(operation)
    let tokens = try required(tokens, "tokens", "n * T int32 token ids")
    let rows = try asInt(n, "n")
    _ = try expectCount(count, "count", rows: ("n", rows), perRow: ("T", model.inputSize))
    return (tokens, rows, try checkedLengths(lengths, lengthsCount, rows: rows, model: model))
}

@_cdecl("ae_model_train_tokens")
public func ae_model_train_tokens(_ handle: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ n: UInt, _ count: UInt,
                                  _ lengths: UnsafePointer<Int32>?, _ lengthsCount: UInt,
                                  _ optionsPointer: UnsafeRawPointer?, _ reportPointer: UnsafeMutableRawPointer?) -> Int32 {
    guarded("ae_model_train_tokens") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let call = try tokenCall(model, "ae_model_train_tokens", tokens, n, count, lengths, lengthsCount)
        guard call.rows >= 1 else { throw .invalidArgument("n is 0; training needs at least one sample") }
        let values = try tokensAsFloats(call.tokens, count: call.rows * model.inputSize, model: model)
        try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            try train(handle, pointer.baseAddress, n, count, labels: nil, optionsPointer, reportPointer, tokenLengths: call.lengths)
        }
    }
}

@_cdecl("ae_trainer_step_tokens")
public func ae_trainer_step_tokens(_ handle: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ lengths: UnsafePointer<Int32>?,
                                   _ n: UInt, _ count: UInt, _ lengthsCount: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_step_tokens") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let trainer = box.trainer, model = trainer.model
        let call = try tokenCall(model, "ae_trainer_step_tokens", tokens, n, count, lengths, lengthsCount)
        guard call.rows >= 1, call.rows <= trainer.batchSize, let buffer = box.tokenBuffer else {
            throw .invalidArgument("n is \(n); expected 1 to the trainer's batch size \(trainer.batchSize)")
        }
        try convertTokens(call.tokens, count: call.rows * model.inputSize, model: model, name: "tokens", into: buffer.pointer)
        try trainerStep(handle, UnsafePointer(buffer.pointer), mask: nil, lengths: call.lengths, tokens: true, n, count, loss)
    }
}

@_cdecl("ae_model_encode_tokens")
public func ae_model_encode_tokens(_ handle: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ lengths: UnsafePointer<Int32>?,
                                   _ n: UInt, _ count: UInt, _ lengthsCount: UInt,
                                   _ code: UnsafeMutablePointer<Float>?, _ codeCount: UInt) -> Int32 {
    guarded("ae_model_encode_tokens") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let call = try tokenCall(model, "ae_model_encode_tokens", tokens, n, count, lengths, lengthsCount)
        let code = try required(code, "code", "a buffer of n * code size floats")
        _ = try expectCount(codeCount, "code_count", rows: ("n", call.rows), perRow: ("code size", model.codeSize))
        guard call.rows > 0 else { return }
        let values = try tokensAsFloats(call.tokens, count: call.rows * model.inputSize, model: model)
        try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            guard let base = pointer.baseAddress else { return }
            try model.encode(base, rows: call.rows, lengths: call.lengths, into: code)
        }
    }
}

@_cdecl("ae_model_reconstruct_tokens")
public func ae_model_reconstruct_tokens(_ handle: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ lengths: UnsafePointer<Int32>?,
                                        _ n: UInt, _ count: UInt, _ lengthsCount: UInt,
                                        _ outTokens: UnsafeMutablePointer<Int32>?, _ outCount: UInt) -> Int32 {
    guarded("ae_model_reconstruct_tokens") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let call = try tokenCall(model, "ae_model_reconstruct_tokens", tokens, n, count, lengths, lengthsCount)
        let out = try required(outTokens, "out_tokens", "a buffer of n * T int32")
        _ = try expectCount(outCount, "out_count", rows: ("n", call.rows), perRow: ("T", model.inputSize))
        guard call.rows > 0 else { return }
        let values = try tokensAsFloats(call.tokens, count: call.rows * model.inputSize, model: model)
        try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            guard let base = pointer.baseAddress else { return }
            try model.reconstructTokens(base, rows: call.rows, lengths: call.lengths, into: out)
        }
    }
}

@_cdecl("ae_model_decode_tokens")
public func ae_model_decode_tokens(_ handle: OpaquePointer?, _ code: UnsafePointer<Float>?, _ n: UInt, _ codeCount: UInt,
                                   _ outTokens: UnsafeMutablePointer<Int32>?, _ outCount: UInt) -> Int32 {
    guarded("ae_model_decode_tokens") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try model.requireTokenModel("ae_model_decode_tokens")
        let code = try required(code, "code", "n * code size floats")
        let out = try required(outTokens, "out_tokens", "a buffer of n * T int32")
        let rows = try asInt(n, "n")
        _ = try expectCount(codeCount, "code_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        _ = try expectCount(outCount, "out_count", rows: ("n", rows), perRow: ("T", model.inputSize))
        try model.decodeTokens(code, rows: rows, into: out)
    }
}

@_cdecl("ae_model_score_tokens")
public func ae_model_score_tokens(_ handle: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ lengths: UnsafePointer<Int32>?,
                                  _ n: UInt, _ count: UInt, _ lengthsCount: UInt,
                                  _ scores: UnsafeMutablePointer<Float>?, _ scoresCount: UInt) -> Int32 {
    guarded("ae_model_score_tokens") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let call = try tokenCall(model, "ae_model_score_tokens", tokens, n, count, lengths, lengthsCount)
        let scores = try required(scores, "scores", "a buffer of n floats")
        guard scoresCount == n else { throw .shapeMismatch("scores_count is \(scoresCount) but n = \(n) was expected") }
        guard call.rows > 0 else { return }
        let values = try tokensAsFloats(call.tokens, count: call.rows * model.inputSize, model: model)
        try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            guard let base = pointer.baseAddress else { return }
            try model.scoreTokens(base, rows: call.rows, lengths: call.lengths, into: scores)
        }
    }
}

@_cdecl("ae_model_evaluate_tokens")
public func ae_model_evaluate_tokens(_ handle: OpaquePointer?, _ tokens: UnsafePointer<Int32>?, _ lengths: UnsafePointer<Int32>?,
                                     _ n: UInt, _ count: UInt, _ lengthsCount: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_model_evaluate_tokens") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let call = try tokenCall(model, "ae_model_evaluate_tokens", tokens, n, count, lengths, lengthsCount)
        let loss = try required(loss, "loss", "a pointer that receives the mean objective")
        guard call.rows >= 1 else { throw .invalidArgument("n is 0; evaluating needs at least one sample") }
        let values = try tokensAsFloats(call.tokens, count: call.rows * model.inputSize, model: model)
        let trainer = try Trainer(model: model, batchSize: min(call.rows, 256))
        loss.pointee = try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) -> Double in
            guard let base = pointer.baseAddress else { return 0 }
            return try trainer.evaluate(base, rows: call.rows, lengths: call.lengths)
        }
    }
}
