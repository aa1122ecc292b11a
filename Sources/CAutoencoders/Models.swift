// Models: create, load, save, free.

import Autoencoders
import Glibc

@_cdecl("ae_model_create")
public func ae_model_create(_ specJSON: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_create") { () throws(AutoencoderError) in
        let out = try required(out, "out", "a pointer that receives the model")
        let spec = try utf8String(specJSON, "spec_json")
        let box = try ModelBox(Model(json: spec))
        out.pointee = box.retainedHandle()
    }
}

@_cdecl("ae_model_load")
public func ae_model_load(_ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_load") { () throws(AutoencoderError) in
        let out = try required(out, "out", "a pointer that receives the model")
        let path = try utf8String(path, "path")
        let box = try ModelBox(Model.load(from: path))
        out.pointee = box.retainedHandle()
    }
}

@_cdecl("ae_model_load_from_memory")
public func ae_model_load_from_memory(_ data: UnsafeRawPointer?, _ size: UInt,
                                      _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_load_from_memory") { () throws(AutoencoderError) in
        let out = try required(out, "out", "a pointer that receives the model")
        let bytes = try modelBytes(data, size)
        // Read in place: each tensor is copied once, straight into the model.
        let box = try ModelBox(ModelFile.decode(bytes, source: "model bytes"))
        out.pointee = box.retainedHandle()
    }
}

@_cdecl("ae_model_save")
public func ae_model_save(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ includeOptimizerState: Int32) -> Int32 {
    guarded("ae_model_save") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let path = try utf8String(path, "path")
        try box.writer.run(.allow) { () throws(AutoencoderError) in
            try box.model.save(to: path, includeOptimizerState: includeOptimizerState != 0)
        }
    }
}

@_cdecl("ae_model_save_to_memory")
public func ae_model_save_to_memory(_ handle: OpaquePointer?, _ includeOptimizerState: Int32,
                                    _ data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                    _ size: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_save_to_memory") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let data = try required(data, "data", "a pointer that receives the buffer")
        let size = try required(size, "size", "a pointer that receives the byte count")
        // One malloc'd block of the exact size (released by the caller with ae_free = free);
        // a failed allocation is AE_ERR_OUT_OF_MEMORY.
        let (buffer, count) = try box.writer.run(.allow) { () throws(AutoencoderError) in
            try ModelFile.encodeToMalloc(box.model, includeOptimizerState: includeOptimizerState != 0)
        }
        data.pointee = buffer
        size.pointee = UInt(count)
    }
}

/// The caller's model-file bytes, checked (NULL, size) but not copied.
func modelBytes(_ data: UnsafeRawPointer?, _ size: UInt) throws(AutoencoderError) -> UnsafeRawBufferPointer {
    let data = try required(data, "data", "the bytes of a model file")
    let byteCount = try asInt(size, "size")
    return UnsafeRawBufferPointer(start: data, count: byteCount)
}

@_cdecl("ae_model_free")
public func ae_model_free(_ handle: OpaquePointer?) {
    guard let handle else { return }
    Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(handle)).release()
}
