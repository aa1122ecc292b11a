// Queries: shapes, the spec, the training state and the parameter tensors' descriptions.

import Autoencoders

private let outExpected = "a pointer that receives the result"

@_cdecl("ae_model_input_size")
public func ae_model_input_size(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_input_size") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UInt(box.model.inputSize)
    }
}

@_cdecl("ae_model_code_size")
public func ae_model_code_size(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_code_size") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UInt(box.model.codeSize)
    }
}

@_cdecl("ae_model_input_shape")
public func ae_model_input_shape(_ handle: OpaquePointer?, _ dims: UnsafeMutablePointer<UInt>?, _ capacity: UInt,
                                 _ rank: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_input_shape") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let rank = try required(rank, "rank", "a pointer that receives the number of dimensions")
        guard dims != nil || capacity == 0 else {
            throw .invalidArgument("dims is NULL but capacity is \(capacity); pass capacity 0 to ask for the rank only")
        }
        try writeShape(box.model.inputShape, dims: dims, capacity: capacity)
        rank.pointee = UInt(box.model.inputShape.count)
    }
}

@_cdecl("ae_model_parameter_count")
public func ae_model_parameter_count(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_parameter_count") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UInt(box.model.parameterCount)
    }
}

@_cdecl("ae_model_can_decode")
public func ae_model_can_decode(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_can_decode") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = box.model.canDecode ? 1 : 0
    }
}

@_cdecl("ae_model_spec")
public func ae_model_spec(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> Int32 {
    guarded("ae_model_spec") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UnsafePointer(box.specJSON)
    }
}

@_cdecl("ae_model_epochs_completed")
public func ae_model_epochs_completed(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_epochs_completed") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let out = try required(out, "out", outExpected)
        let epochs = try box.writer.run(.allow) { () throws(AutoencoderError) in box.model.epochsCompleted }
        out.pointee = UInt(max(epochs, 0))
    }
}

@_cdecl("ae_model_tensor_count")
public func ae_model_tensor_count(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_tensor_count") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UInt(box.tensorNames.count)
    }
}

@_cdecl("ae_model_tensor_info")
public func ae_model_tensor_info(_ handle: OpaquePointer?, _ index: UInt, _ name: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                                 _ dims: UnsafeMutablePointer<UInt>?, _ capacity: UInt,
                                 _ rank: UnsafeMutablePointer<UInt>?, _ count: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_tensor_info") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let entries = box.model.parameterEntries
        guard index < UInt(entries.count) else {
            throw .invalidArgument("index is \(index); the model has \(entries.count) tensors (0 to \(entries.count - 1))")
        }
        let entry = entries[Int(index)]
        try writeShape(entry.shape, dims: dims, capacity: capacity)
        name?.pointee = UnsafePointer(box.tensorNames[Int(index)])
        rank?.pointee = UInt(entry.shape.count)
        count?.pointee = UInt(entry.count)
    }
}

/// Writes the first min(capacity, rank) dimensions of `shape` to `dims`.
private func writeShape(_ shape: [Int], dims: UnsafeMutablePointer<UInt>?, capacity: UInt) throws(AutoencoderError) {
    guard let dims else { return }
    for (i, dimension) in shape.enumerated() where UInt(i) < capacity {
        dims[i] = UInt(dimension)
    }
}

@_cdecl("ae_model_class_count")
public func ae_model_class_count(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_class_count") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UInt(box.model.classCount)
    }
}

@_cdecl("ae_model_label_size")
public func ae_model_label_size(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_label_size") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try required(out, "out", outExpected).pointee = UInt(box.model.labelSize)
    }
}
