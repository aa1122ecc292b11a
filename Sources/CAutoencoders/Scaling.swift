// Input scaling: setting, fitting and reading the per-feature scaling a model applies to raw inputs.

import Autoencoders

@_cdecl("ae_model_set_input_scaling")
public func ae_model_set_input_scaling(_ handle: OpaquePointer?, _ offset: UnsafePointer<Float>?,
                                       _ scale: UnsafePointer<Float>?, _ features: UInt) -> Int32 {
    guarded("ae_model_set_input_scaling") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let scaling: InputScaling?
        if offset == nil && scale == nil && features == 0 {
            scaling = nil  // removes the scaling
        } else {
            let inputSize = box.model.inputSize
            let offset = try required(offset, "offset", "\(inputSize) floats (or NULL with scale NULL and features 0 to remove the scaling)")
            let scale = try required(scale, "scale", "\(inputSize) floats (or NULL with offset NULL and features 0 to remove the scaling)")
            guard features == UInt(inputSize) else {
                throw .shapeMismatch("features is \(features) but the model's input size is \(inputSize)")
            }
            scaling = try InputScaling(offset: Array(UnsafeBufferPointer(start: offset, count: inputSize)),
                                       scale: Array(UnsafeBufferPointer(start: scale, count: inputSize)))
        }
        try box.writer.run(.reject) { () throws(AutoencoderError) in try box.model.setInputScaling(scaling) }
    }
}

@_cdecl("ae_model_fit_input_scaling")
public func ae_model_fit_input_scaling(_ handle: OpaquePointer?, _ kind: Int32, _ data: UnsafePointer<Float>?,
                                       _ n: UInt, _ count: UInt) -> Int32 {
    guarded("ae_model_fit_input_scaling") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let scalingKind: InputScaling.Kind
        switch kind {
        case 0: scalingKind = .standardize
        case 1: scalingKind = .minMax
        default: throw .invalidArgument("kind is \(kind); expected AE_SCALING_STANDARDIZE (0) or AE_SCALING_MINMAX (1)")
        }
        let data = try required(data, "data", "n * input size floats")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; fitting a scaling needs at least one sample") }
        let inputSize = box.model.inputSize
        let total = try expectCount(count, "count", rows: ("n", rows), perRow: ("input size", inputSize))
        try checkFinite(UnsafeBufferPointer(start: data, count: total), "data", perRow: inputSize)
        let scaling = try InputScaling.fit(scalingKind, data: data, rows: rows, features: inputSize)
        try box.writer.run(.reject) { () throws(AutoencoderError) in try box.model.setInputScaling(scaling) }
    }
}

@_cdecl("ae_model_get_input_scaling")
public func ae_model_get_input_scaling(_ handle: OpaquePointer?, _ offset: UnsafeMutablePointer<Float>?,
                                       _ scale: UnsafeMutablePointer<Float>?, _ features: UInt,
                                       _ hasScaling: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_get_input_scaling") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let hasScaling = try required(hasScaling, "has_scaling", "a pointer that receives 0 or 1")
        let scaling = try box.writer.run(.allow) { () throws(AutoencoderError) in box.model.inputScaling }
        // NULL buffers with features 0 ask only whether there is a scaling.
        if offset == nil && scale == nil && features == 0 {
            hasScaling.pointee = scaling == nil ? 0 : 1
            return
        }
        let inputSize = box.model.inputSize
        let offset = try required(offset, "offset", "a buffer of \(inputSize) floats")
        let scale = try required(scale, "scale", "a buffer of \(inputSize) floats")
        guard features == UInt(inputSize) else {
            throw .shapeMismatch("features is \(features) but the model's input size is \(inputSize)")
        }
        guard let scaling else {
            hasScaling.pointee = 0
            return
        }
        guard scaling.offset.count == inputSize, scaling.scale.count == inputSize else {
            throw .init(.internal, "the input scaling has \(scaling.offset.count) features for an input of \(inputSize)")
        }
        scaling.offset.withUnsafeBufferPointer { if let base = $0.baseAddress { offset.update(from: base, count: inputSize) } }
        scaling.scale.withUnsafeBufferPointer { if let base = $0.baseAddress { scale.update(from: base, count: inputSize) } }
        hasScaling.pointee = 1
    }
}
