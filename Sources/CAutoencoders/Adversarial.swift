// Adversarial autoencoders: queries, sampling the prior, the discriminator's accuracy, and the
// losses of a trainer's last step.

import Autoencoders

@_cdecl("ae_model_is_adversarial")
public func ae_model_is_adversarial(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_is_adversarial") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try required(out, "out", "a pointer that receives 1 or 0").pointee = model.isAdversarial ? 1 : 0
    }
}

@_cdecl("ae_model_prior_components")
public func ae_model_prior_components(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?,
                                      _ supervised: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_prior_components") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        try required(out, "out", "a pointer that receives the number of components").pointee = UInt(model.priorComponents)
        supervised?.pointee = model.takesComponentLabels ? 1 : 0
    }
}

/// Checks optional int32 labels of n samples (labels_count must be n, or 0 with NULL).
private func optionalLabels(_ labels: UnsafePointer<Int32>?, _ labelsCount: UInt, rows: Int) throws(AutoencoderError) -> UnsafePointer<Int32>? {
    guard let labels else {
        guard labelsCount == 0 else { throw .invalidArgument("labels is NULL but labels_count is \(labelsCount); expected 0") }
        return nil
    }
    _ = try expectCount(labelsCount, "labels_count", rows: ("n", rows), perRow: ("1 label per sample", 1))
    return labels
}

@_cdecl("ae_model_sample_prior")
public func ae_model_sample_prior(_ handle: OpaquePointer?, _ n: UInt, _ seed: UInt64, _ labels: UnsafePointer<Int32>?,
                                  _ labelsCount: UInt, _ codes: UnsafeMutablePointer<Float>?, _ codesCount: UInt) -> Int32 {
    guarded("ae_model_sample_prior") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        guard model.isAdversarial else {
            throw .unsupported("the model has no prior: give its spec an \"adversarial\" section")
        }
        let rows = try asInt(n, "n")
        let labels = try optionalLabels(labels, labelsCount, rows: rows)
        let codes = try required(codes, "codes", "a buffer of n * code size floats")
        _ = try expectCount(codesCount, "codes_count", rows: ("n", rows), perRow: ("code size", model.codeSize))
        try model.samplePrior(rows: rows, seed: seed, labels: labels, into: codes)
    }
}

@_cdecl("ae_model_discriminator_accuracy")
public func ae_model_discriminator_accuracy(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                            _ labels: UnsafePointer<Int32>?, _ labelsCount: UInt, _ seed: UInt64,
                                            _ accuracy: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_model_discriminator_accuracy") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let model = box.model
        guard model.isAdversarial else {
            throw .unsupported("the model has no discriminator: give its spec an \"adversarial\" section")
        }
        let data = try required(data, "data", "n * input size floats")
        let out = try required(accuracy, "accuracy", "a pointer that receives the accuracy")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; expected at least one sample") }
        _ = try expectCount(count, "count", rows: ("n", rows), perRow: ("input size", model.inputSize))
        let labels = try optionalLabels(labels, labelsCount, rows: rows)
        var floats: [Float]? = nil
        if let labels { floats = try labelsAsFloats(labels, count: rows, model: model) }
        let trainer = try Trainer(model: model, batchSize: min(rows, 256))
        let value = try box.writer.run(.allow) { () throws(AutoencoderError) -> Double in
            guard let floats else { return try trainer.discriminatorAccuracy(data, rows: rows, seed: seed) }
            return try floats.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) -> Double in
                try trainer.discriminatorAccuracy(data, rows: rows, labels: pointer.baseAddress, seed: seed)
            }
        }
        out.pointee = value
    }
}

@_cdecl("ae_trainer_last_losses")
public func ae_trainer_last_losses(_ handle: OpaquePointer?, _ reconstruction: UnsafeMutablePointer<Double>?,
                                   _ discriminator: UnsafeMutablePointer<Double>?, _ generator: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_last_losses") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let losses = try box.owner.writer.run(.allow) { () throws(AutoencoderError) in box.trainer.lastLosses }
        reconstruction?.pointee = losses.reconstruction
        discriminator?.pointee = losses.discriminator
        generator?.pointee = losses.generator
    }
}
