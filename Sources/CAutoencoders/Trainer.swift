// Step-wise training: a trainer handle over a model, fed one batch at a time by the caller.

import Autoencoders

@_cdecl("ae_trainer_create")
public func ae_trainer_create(_ handle: OpaquePointer?, _ batchSize: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_trainer_create") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let out = try required(out, "out", "a pointer that receives the trainer")
        guard batchSize >= 1, batchSize <= 1 << 20 else {
            throw .invalidArgument("batch_size is \(batchSize); expected 1 to 1048576")
        }
        // The trainer allocates its workspace at once, and a failed Swift allocation traps: probe
        // the largest part (the batch's input and its gradient) with the C allocator first.
        let rowSize = max(box.model.inputSize, box.model.outputSize)
        let (floats, overflow) = Int(batchSize).multipliedReportingOverflow(by: rowSize)
        guard !overflow, floats <= Int.max / 8, canAllocate(floats * 8) else {
            throw .init(.outOfMemory, "batch_size \(batchSize) needs \(batchSize) * \(rowSize) floats per buffer; not enough memory")
        }
        let trainer = try Trainer(model: box.model, batchSize: Int(batchSize))
        out.pointee = try TrainerBox(owner: box, trainer: trainer).retainedHandle()
    }
}

@_cdecl("ae_trainer_step")
public func ae_trainer_step(_ handle: OpaquePointer?, _ batch: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                            _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_step") { () throws(AutoencoderError) in
        try trainerStep(handle, batch, mask: nil, n, count, loss)
    }
}

@_cdecl("ae_trainer_step_masked")
public func ae_trainer_step_masked(_ handle: OpaquePointer?, _ batch: UnsafePointer<Float>?, _ mask: UnsafePointer<Float>?,
                                   _ n: UInt, _ count: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_step_masked") { () throws(AutoencoderError) in
        let mask = try required(mask, "mask", "n * input size floats, 1 where an input is known and 0 where it is missing")
        try trainerStep(handle, batch, mask: mask, n, count, loss)
    }
}

@_cdecl("ae_trainer_step_labels")
public func ae_trainer_step_labels(_ handle: OpaquePointer?, _ batch: UnsafePointer<Float>?, _ labels: UnsafePointer<Int32>?,
                                   _ n: UInt, _ count: UInt, _ labelsCount: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_step_labels") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let trainer = box.trainer
        let model = trainer.model
        let labels = try required(labels, "labels", "n * label size int32 class indices")
        try refuseUnsupervisedLabels(model)
        let rows = try asInt(n, "n")
        _ = try expectCount(labelsCount, "labels_count", rows: ("n", rows), perRow: ("label size", model.labelSize))
        // The batch's size and counts are checked before any label is read.
        guard rows >= 1, rows <= trainer.batchSize else {
            throw .invalidArgument("n is \(n); expected 1 to the trainer's batch size \(trainer.batchSize)")
        }
        _ = try expectCount(count, "count", rows: ("n", rows), perRow: ("input size", model.inputSize))
        guard let buffer = box.labelBuffer else {
            throw .invalidArgument("labels: this model reconstructs its input and takes no labels")
        }
        try convertLabels(labels, count: rows * model.labelSize, model: model, into: buffer.pointer)
        try trainerStep(handle, batch, mask: nil, labels: buffer.pointer, n, count, loss)
    }
}

/// One step of a trainer, with an optional mask of the batch's shape, labels (segmentation) and
/// lengths (sequences; already checked against n). Token ids arrive as floats with `tokens`.
func trainerStep(_ handle: OpaquePointer?, _ batch: UnsafePointer<Float>?, mask: UnsafePointer<Float>?,
                 labels: UnsafePointer<Float>? = nil, lengths: UnsafePointer<Int32>? = nil, tokens: Bool = false,
                 _ n: UInt, _ count: UInt, _ loss: UnsafeMutablePointer<Double>?) throws(AutoencoderError) {
    let box = try trainerBox(handle)
    let trainer = box.trainer
    if !tokens { try requireFloatInput(trainer.model, tokenCall: "ae_trainer_step_tokens") }
    let batch = try required(batch, "batch", "n * input size floats")
    guard n >= 1, n <= UInt(trainer.batchSize) else {
        throw .invalidArgument("n is \(n); expected 1 to the trainer's batch size \(trainer.batchSize)")
    }
    try expectSequenceCount(count, "count", rows: Int(n), model: trainer.model)
    let value = try box.owner.writer.run(.reject) { () throws(AutoencoderError) in
        try trainer.step(batch, rows: Int(n), mask: mask, labels: labels, lengths: lengths)
    }
    loss?.pointee = value
}

@_cdecl("ae_trainer_set_learning_rate")
public func ae_trainer_set_learning_rate(_ handle: OpaquePointer?, _ learningRate: Double) -> Int32 {
    guarded("ae_trainer_set_learning_rate") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let rate = Float(learningRate)
        guard learningRate > 0, rate.isFinite, rate > 0 else {
            throw .invalidArgument("learning_rate is \(learningRate); expected a positive number that fits a float (up to \(Float.greatestFiniteMagnitude))")
        }
        try box.owner.writer.run(.reject) { () throws(AutoencoderError) in box.trainer.learningRate = rate }
    }
}

@_cdecl("ae_trainer_get_learning_rate")
public func ae_trainer_get_learning_rate(_ handle: OpaquePointer?, _ learningRate: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_get_learning_rate") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let out = try required(learningRate, "learning_rate", "a pointer that receives the learning rate")
        let rate = try box.owner.writer.run(.allow) { () throws(AutoencoderError) in box.trainer.learningRate }
        out.pointee = Double(rate)
    }
}

@_cdecl("ae_trainer_step_count")
public func ae_trainer_step_count(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_trainer_step_count") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let out = try required(out, "out", "a pointer that receives the step count")
        let steps = try box.owner.writer.run(.allow) { () throws(AutoencoderError) in box.trainer.model.optimizerStepCount }
        out.pointee = UInt(max(steps, 0))
    }
}

@_cdecl("ae_trainer_free")
public func ae_trainer_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<TrainerBox>.fromOpaque(UnsafeRawPointer(handle)).release()
}
