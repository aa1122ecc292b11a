// Sequences: per-sample lengths for sequence models (input [T, F], a recurrent layer), the
// _sequences calls, and the shape queries. A batch is n * T * F floats, batch-first; lengths are
// n int32 values in 1..T or NULL (every sample fills T steps).

import Autoencoders

/// The lengths argument checked against n and the model: NULL with a zero count is nil; a count
/// that is not n, lengths on a model without sequences, or a length outside 1..T is an error
/// naming `name` (the core checks the values, before anything changes).
func checkedLengths(_ lengths: UnsafePointer<Int32>?, _ count: UInt, rows: Int, model: Model, name: String = "lengths",
                    countName: String = "lengths_count", rowsName: String = "n") throws(AutoencoderError) -> UnsafePointer<Int32>? {
    guard let lengths else {
        guard count == 0 else { throw .invalidArgument("\(name) is NULL but \(countName) is \(count); set it to 0, or pass the lengths") }
        return nil
    }
    guard let shape = model.sequenceShape else {
        throw .invalidArgument("\(name): lengths apply to sequence models (input [T, F] read by an lstm or gru); this model's input shape is \(model.inputShape)")
    }
    guard count == UInt(rows) else {
        throw .invalidArgument("\(countName) is \(count) but \(rowsName) = \(rows) lengths were expected (one per sample, each in 1..T = \(shape.steps))")
    }
    try SequenceLoss.validate(lengths: lengths, batch: rows, steps: shape.steps, name: name)
    return lengths
}

/// Refuses float data on a token model, pointing to its token call.
func requireFloatInput(_ model: Model, tokenCall: String) throws(AutoencoderError) {
    if model.isTokenModel {
        throw .unsupported("this is a token model (its first encoder entry is an embedding): pass int32 token ids to \(tokenCall)")
    }
}

/// The count of a sequence batch: n * T * F, with T and F in the message.
func expectSequenceCount(_ count: UInt, _ countName: String, rows: Int, model: Model) throws(AutoencoderError) {
    if let shape = model.sequenceShape, !model.isTokenModel {
        _ = try expectCount(count, countName, rows: ("n", rows), perRow: ("T * F = \(shape.steps) * \(shape.features)", model.inputSize))
    } else {
        _ = try expectCount(count, countName, rows: ("n", rows), perRow: ("input size", model.inputSize))
    }
}

@_cdecl("ae_model_sequence_shape")
public func ae_model_sequence_shape(_ handle: OpaquePointer?, _ steps: UnsafeMutablePointer<UInt>?,
                                    _ features: UnsafeMutablePointer<UInt>?, _ isSequence: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_sequence_shape") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let shape = model.sequenceShape
        steps?.pointee = UInt(shape?.steps ?? 0)
        features?.pointee = UInt(shape?.features ?? 0)
        isSequence?.pointee = shape == nil ? 0 : 1
    }
}

@_cdecl("ae_model_vocabulary_size")
public func ae_model_vocabulary_size(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_vocabulary_size") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try required(out, "out", "a pointer that receives the vocabulary size").pointee = UInt(model.vocabularySize)
    }
}

@_cdecl("ae_trainer_step_sequences")
public func ae_trainer_step_sequences(_ handle: OpaquePointer?, _ batch: UnsafePointer<Float>?, _ lengths: UnsafePointer<Int32>?,
                                      _ n: UInt, _ count: UInt, _ lengthsCount: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_step_sequences") { () throws(AutoencoderError) in
        let trainer = try trainerBox(handle).trainer
        try requireFloatInput(trainer.model, tokenCall: "ae_trainer_step_tokens")
        _ = try required(batch, "batch", "n * T * F floats")
        guard n >= 1, n <= UInt(trainer.batchSize) else {
            throw .invalidArgument("n is \(n); expected 1 to the trainer's batch size \(trainer.batchSize)")
        }
        try expectSequenceCount(count, "count", rows: Int(n), model: trainer.model)
        let checked = try checkedLengths(lengths, lengthsCount, rows: Int(n), model: trainer.model)
        try trainerStep(handle, batch, mask: nil, lengths: checked, n, count, loss)
    }
}

/// The common checks of the _sequences inference calls: model, input, n, counts and lengths.
private func sequenceCall(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ lengths: UnsafePointer<Int32>?,
                          _ n: UInt, _ inputCount: UInt, _ lengthsCount: UInt, tokenCall: String,
                          inputName: String = "input") throws(AutoencoderError)
    -> (model: Model, input: UnsafePointer<Float>, rows: Int, lengths: UnsafePointer<Int32>?) {
    let model = try modelBox(handle).model
    try requireFloatInput(model, tokenCall: tokenCall)
    let input = try required(input, inputName, "n * T * F floats")
    let rows = try asInt(n, "n")
    try expectSequenceCount(inputCount, "\(inputName == "input" ? "input_count" : "count")", rows: rows, model: model)
    return (model, input, rows, try checkedLengths(lengths, lengthsCount, rows: rows, model: model))
}

@_cdecl("ae_model_encode_sequences")
public func ae_model_encode_sequences(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ lengths: UnsafePointer<Int32>?,
                                      _ n: UInt, _ inputCount: UInt, _ lengthsCount: UInt,
                                      _ code: UnsafeMutablePointer<Float>?, _ codeCount: UInt) -> Int32 {
    guarded("ae_model_encode_sequences") { () throws(AutoencoderError) in
        let call = try sequenceCall(handle, input, lengths, n, inputCount, lengthsCount, tokenCall: "ae_model_encode_tokens")
        let code = try required(code, "code", "a buffer of n * code size floats")
        _ = try expectCount(codeCount, "code_count", rows: ("n", call.rows), perRow: ("code size", call.model.codeSize))
        try call.model.encode(call.input, rows: call.rows, lengths: call.lengths, into: code)
    }
}

@_cdecl("ae_model_reconstruct_sequences")
public func ae_model_reconstruct_sequences(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ lengths: UnsafePointer<Int32>?,
                                           _ n: UInt, _ inputCount: UInt, _ lengthsCount: UInt,
                                           _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_reconstruct_sequences") { () throws(AutoencoderError) in
        let call = try sequenceCall(handle, input, lengths, n, inputCount, lengthsCount, tokenCall: "ae_model_reconstruct_tokens")
        try call.model.requireReconstruction("reconstruct")
        let output = try required(output, "output", "a buffer of n * T * F floats")
        _ = try expectCount(outputCount, "output_count", rows: ("n", call.rows), perRow: ("input size", call.model.outputSize))
        try call.model.reconstruct(call.input, rows: call.rows, lengths: call.lengths, into: output)
    }
}

@_cdecl("ae_model_score_sequences")
public func ae_model_score_sequences(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ lengths: UnsafePointer<Int32>?,
                                     _ n: UInt, _ inputCount: UInt, _ lengthsCount: UInt,
                                     _ scores: UnsafeMutablePointer<Float>?, _ scoresCount: UInt) -> Int32 {
    guarded("ae_model_score_sequences") { () throws(AutoencoderError) in
        let call = try sequenceCall(handle, input, lengths, n, inputCount, lengthsCount, tokenCall: "ae_model_score_tokens")
        try call.model.requireReconstruction("score")
        let scores = try required(scores, "scores", "a buffer of n floats")
        guard scoresCount == n else { throw .shapeMismatch("scores_count is \(scoresCount) but n = \(n) was expected") }
        try call.model.score(call.input, rows: call.rows, lengths: call.lengths, into: scores)
    }
}

@_cdecl("ae_model_evaluate_sequences")
public func ae_model_evaluate_sequences(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ lengths: UnsafePointer<Int32>?,
                                        _ n: UInt, _ count: UInt, _ lengthsCount: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_model_evaluate_sequences") { () throws(AutoencoderError) in
        let call = try sequenceCall(handle, data, lengths, n, count, lengthsCount, tokenCall: "ae_model_evaluate_tokens", inputName: "data")
        let loss = try required(loss, "loss", "a pointer that receives the mean objective")
        guard call.rows >= 1 else { throw .invalidArgument("n is 0; evaluating needs at least one sample") }
        try call.model.requireReconstruction("evaluate")
        let trainer = try Trainer(model: call.model, batchSize: min(call.rows, 256))
        loss.pointee = try trainer.evaluate(call.input, rows: call.rows, lengths: call.lengths)
    }
}
