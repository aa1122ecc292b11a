// int8 inference: quantising a model's weights to 8 bits (Sources/Autoencoders/Quantization/),
// the query for an int8 model, and the choice of the int8 GEMM kernel.

import Autoencoders
import CGemm

/// ae_model_quantize_int8's flag: refuse a model with a layer that has no int8 path.
let int8RequireAll: Int32 = 1

@_cdecl("ae_model_quantize_int8")
public func ae_model_quantize_int8(_ handle: OpaquePointer?, _ calibration: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                   _ flags: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_quantize_int8") { () throws(AutoencoderError) in
        try quantizeInt8(handle, calibration, n, count, flags, floatLayers: [], out)
    }
}

@_cdecl("ae_model_quantize_int8_keeping")
public func ae_model_quantize_int8_keeping(_ handle: OpaquePointer?, _ calibration: UnsafePointer<Float>?, _ n: UInt,
                                           _ count: UInt, _ flags: Int32, _ floatLayers: UnsafePointer<UnsafePointer<CChar>?>?,
                                           _ floatLayerCount: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_quantize_int8_keeping") { () throws(AutoencoderError) in
        let layerCount = try asInt(floatLayerCount, "float_layer_count")
        var names: [String] = []
        if layerCount > 0 {
            let list = try required(floatLayers, "float_layers", "an array of float_layer_count layer names")
            for i in 0..<layerCount { names.append(try utf8String(list[i], "float_layers[\(i)]")) }
        }
        try quantizeInt8(handle, calibration, n, count, flags, floatLayers: names, out)
    }
}

/// Both quantising calls: the arguments checked in the header's order, then the model's copy.
private func quantizeInt8(_ handle: OpaquePointer?, _ calibration: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                          _ flags: Int32, floatLayers: [String], _ out: UnsafeMutablePointer<OpaquePointer?>?) throws(AutoencoderError) {
    let box = try modelBox(handle)
    let out = try required(out, "out", "a pointer that receives the int8 model")
    guard flags & ~int8RequireAll == 0 else {
        throw .invalidArgument("flags is \(flags); expected 0 or AE_INT8_REQUIRE_ALL (1)")
    }
    let rows = try asInt(n, "n")
    if calibration == nil {
        guard rows == 0, count == 0 else {
            throw .invalidArgument("calibration is NULL but n is \(n) and count \(count); pass n = count = 0 for dynamic ranges")
        }
    } else {
        guard rows >= 1 else { throw .invalidArgument("n is 0; calibration needs at least one sample (or pass calibration = NULL)") }
        _ = try expectCount(count, "count", rows: ("n", rows), perRow: ("input size", box.model.inputSize))
    }
    let quantized = try box.writer.run(.allow) { () throws(AutoencoderError) in
        try box.model.quantizedInt8(calibration: calibration, rows: rows, requireAll: flags & int8RequireAll != 0,
                                    keepFloat: floatLayers)
    }
    out.pointee = try ModelBox(quantized).retainedHandle()
}

@_cdecl("ae_model_is_int8")
public func ae_model_is_int8(_ handle: OpaquePointer?, _ out: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_is_int8") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let out = try required(out, "out", "a pointer to an int")
        out.pointee = model.isInt8 ? 1 : 0
    }
}

@_cdecl("ae_model_int8_info")
public func ae_model_int8_info(_ handle: OpaquePointer?, _ quantizedLayers: UnsafeMutablePointer<UInt>?,
                               _ fallbackLayers: UnsafeMutablePointer<UInt>?, _ calibrated: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_int8_info") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        quantizedLayers?.pointee = UInt(model.int8QuantizedLayers.count)
        fallbackLayers?.pointee = UInt(model.int8FallbackLayers.count)
        calibrated?.pointee = model.int8IsCalibrated ? 1 : 0
    }
}

@_cdecl("ae_int8_kernel_name")
public func ae_int8_kernel_name() -> UnsafePointer<CChar>? {
    aeg_int8_kernel_name(aeg_int8_current_kernel())  // static C strings
}

@_cdecl("ae_set_int8_kernel")
public func ae_set_int8_kernel(_ name: UnsafePointer<CChar>?) -> Int32 {
    guarded("ae_set_int8_kernel") { () throws(AutoencoderError) in
        try Int8GEMM.select(try utf8String(name, "name"))
    }
}
