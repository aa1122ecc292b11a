// Data-parallel training: a trainer's step split into compute → (the caller's all-reduce) →
// apply, the flat gradient and parameter buffers copied in and out, and a fingerprint that
// processes compare before their first step. Training/DataParallel.swift has the rules.

import Autoencoders

@_cdecl("ae_model_fingerprint")
public func ae_model_fingerprint(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt64>?) -> Int32 {
    guarded("ae_model_fingerprint") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let out = try required(out, "out", "a pointer that receives the fingerprint")
        out.pointee = box.model.fingerprint
    }
}

@_cdecl("ae_model_get_parameters")
public func ae_model_get_parameters(_ handle: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?, _ count: UInt) -> Int32 {
    guarded("ae_model_get_parameters") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let values = try required(values, "values", "a buffer of the model's parameter count floats")
        let count = try asInt(count, "count")
        try box.writer.run(.allow) { () throws(AutoencoderError) in try box.model.copyParameters(to: values, count: count) }
    }
}

@_cdecl("ae_model_set_parameters")
public func ae_model_set_parameters(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: UInt) -> Int32 {
    guarded("ae_model_set_parameters") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let values = try required(values, "values", "the model's parameter count floats")
        let count = try asInt(count, "count")
        try box.writer.run(.reject) { () throws(AutoencoderError) in try box.model.setParameters(values, count: count) }
    }
}

@_cdecl("ae_trainer_gradient_count")
public func ae_trainer_gradient_count(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_trainer_gradient_count") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let out = try required(out, "out", "a pointer that receives the gradient count")
        out.pointee = UInt(box.trainer.gradientCount)
    }
}

@_cdecl("ae_trainer_compute_gradients")
public func ae_trainer_compute_gradients(_ handle: OpaquePointer?, _ batch: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                         _ firstRow: UInt, _ totalRows: UInt, _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_trainer_compute_gradients") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let trainer = box.trainer
        let batch = try required(batch, "batch", "n * input size floats")
        guard n >= 1, n <= UInt(trainer.batchSize) else {
            throw .invalidArgument("n is \(n); expected 1 to the trainer's batch size \(trainer.batchSize)")
        }
        _ = try expectCount(count, "count", rows: ("n", Int(n)), perRow: ("input size", trainer.model.inputSize))
        let first = try asInt(firstRow, "first_row"), total = try asInt(totalRows, "total_rows")
        let value = try box.owner.writer.run(.reject) { () throws(AutoencoderError) -> Double in
            try trainer.computeGradients(batch, rows: Int(n), firstRow: first, totalRows: total)
        }
        loss?.pointee = value
    }
}

@_cdecl("ae_trainer_get_gradients")
public func ae_trainer_get_gradients(_ handle: OpaquePointer?, _ values: UnsafeMutablePointer<Float>?, _ count: UInt) -> Int32 {
    guarded("ae_trainer_get_gradients") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let values = try required(values, "values", "a buffer of the trainer's gradient count floats")
        let count = try asInt(count, "count")
        try box.owner.writer.run(.allow) { () throws(AutoencoderError) in try box.trainer.copyGradients(to: values, count: count) }
    }
}

@_cdecl("ae_trainer_set_gradients")
public func ae_trainer_set_gradients(_ handle: OpaquePointer?, _ values: UnsafePointer<Float>?, _ count: UInt) -> Int32 {
    guarded("ae_trainer_set_gradients") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        let values = try required(values, "values", "the trainer's gradient count floats")
        let count = try asInt(count, "count")
        try box.owner.writer.run(.reject) { () throws(AutoencoderError) in try box.trainer.setGradients(values, count: count) }
    }
}

@_cdecl("ae_trainer_apply_gradients")
public func ae_trainer_apply_gradients(_ handle: OpaquePointer?) -> Int32 {
    guarded("ae_trainer_apply_gradients") { () throws(AutoencoderError) in
        let box = try trainerBox(handle)
        try box.owner.writer.run(.reject) { () throws(AutoencoderError) in try box.trainer.applyHeldGradients() }
    }
}
