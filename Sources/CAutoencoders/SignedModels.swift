// Signed model files: save with a caller's key (HMAC-SHA256 in the file's metadata), and load only
// files that carry a valid signature made with that key.

import Autoencoders

/// The caller's key, copied (the library keeps no reference to it). 1 to 65536 bytes.
private func signingKey(_ key: UnsafeRawPointer?, _ length: UInt) throws(AutoencoderError) -> ModelFileKey {
    let key = try required(key, "key", "the bytes of the signing key")
    guard length >= 1, length <= UInt(ModelFileKeyLimit) else {
        throw .invalidArgument("key_len is \(length); expected 1 to \(ModelFileKeyLimit) bytes (32 random bytes are recommended)")
    }
    return try ModelFileKey(Array(UnsafeRawBufferPointer(start: key, count: Int(length))))
}

/// The longest key accepted (a longer one is hashed by HMAC anyway; this only bounds the copy).
private let ModelFileKeyLimit = 65536

@_cdecl("ae_model_save_signed")
public func ae_model_save_signed(_ handle: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ includeOptimizerState: Int32,
                                 _ key: UnsafeRawPointer?, _ keyLength: UInt) -> Int32 {
    guarded("ae_model_save_signed") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let path = try utf8String(path, "path")
        let key = try signingKey(key, keyLength)
        try box.writer.run(.allow) { () throws(AutoencoderError) in
            try box.model.save(to: path, includeOptimizerState: includeOptimizerState != 0, key: key)
        }
    }
}

@_cdecl("ae_model_save_to_memory_signed")
public func ae_model_save_to_memory_signed(_ handle: OpaquePointer?, _ includeOptimizerState: Int32,
                                           _ key: UnsafeRawPointer?, _ keyLength: UInt,
                                           _ data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                           _ size: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_save_to_memory_signed") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let key = try signingKey(key, keyLength)
        let data = try required(data, "data", "a pointer that receives the buffer")
        let size = try required(size, "size", "a pointer that receives the byte count")
        let (buffer, count) = try box.writer.run(.allow) { () throws(AutoencoderError) in
            try ModelFile.encodeToMalloc(box.model, includeOptimizerState: includeOptimizerState != 0, key: key)
        }
        data.pointee = buffer
        size.pointee = UInt(count)
    }
}

@_cdecl("ae_model_load_verified")
public func ae_model_load_verified(_ path: UnsafePointer<CChar>?, _ key: UnsafeRawPointer?, _ keyLength: UInt,
                                   _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_load_verified") { () throws(AutoencoderError) in
        let out = try required(out, "out", "a pointer that receives the model")
        let path = try utf8String(path, "path")
        let key = try signingKey(key, keyLength)
        let box = try ModelBox(ModelFile.load(path: path, key: key))
        out.pointee = box.retainedHandle()
    }
}

@_cdecl("ae_model_load_from_memory_verified")
public func ae_model_load_from_memory_verified(_ data: UnsafeRawPointer?, _ size: UInt, _ key: UnsafeRawPointer?,
                                               _ keyLength: UInt, _ out: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guarded("ae_model_load_from_memory_verified") { () throws(AutoencoderError) in
        let out = try required(out, "out", "a pointer that receives the model")
        let bytes = try modelBytes(data, size)
        let key = try signingKey(key, keyLength)
        let box = try ModelBox(ModelFile.decode(bytes, source: "model bytes", key: key))
        out.pointee = box.retainedHandle()
    }
}
