// Parameters: reading and replacing named parameter tensors.

import Autoencoders

@_cdecl("ae_model_get_parameter")
public func ae_model_get_parameter(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                   _ values: UnsafeMutablePointer<Float>?, _ count: UInt) -> Int32 {
    guarded("ae_model_get_parameter") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let name = try utf8String(name, "name")
        let values = try required(values, "values", "a buffer of the tensor's element count")
        let entry = try box.model.parameterEntry(named: name)
        try checkTensorCount(count, entry)
        let tensor = try box.model.parameter(named: name)
        guard tensor.values.count == entry.count else {
            throw .init(.internal, "tensor \(name) returned \(tensor.values.count) values for \(entry.count) elements")
        }
        tensor.values.withUnsafeBufferPointer { source in
            if let base = source.baseAddress { values.update(from: base, count: source.count) }
        }
    }
}

@_cdecl("ae_model_set_parameter")
public func ae_model_set_parameter(_ handle: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                   _ values: UnsafePointer<Float>?, _ count: UInt) -> Int32 {
    guarded("ae_model_set_parameter") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let name = try utf8String(name, "name")
        let values = try required(values, "values", "the tensor's new values")
        let entry = try box.model.parameterEntry(named: name)
        try checkTensorCount(count, entry)
        let buffer = UnsafeBufferPointer(start: values, count: entry.count)
        try checkFinite(buffer, "values")
        try box.writer.run(.reject) { () throws(AutoencoderError) in
            try box.model.setParameter(named: name, values: buffer)
        }
    }
}

private func checkTensorCount(_ count: UInt, _ entry: ParameterEntry) throws(AutoencoderError) {
    guard count == UInt(entry.count) else {
        throw .shapeMismatch("count is \(count) but tensor \(entry.name) of shape \(entry.shape) has \(entry.count) elements")
    }
}
