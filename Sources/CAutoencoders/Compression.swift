// Compression: fitting the code quantiser, compressing samples to the .aec container and
// decompressing it (Sources/Autoencoders/Codec/).

import Autoencoders
import Glibc

@_cdecl("ae_model_fit_quantizer")
public func ae_model_fit_quantizer(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                   _ bits: Int32) -> Int32 {
    guarded("ae_model_fit_quantizer") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let data = try required(data, "data", "n * input size floats of training samples")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; fitting a quantiser needs at least one sample") }
        guard (4...8).contains(bits) else { throw .invalidArgument("bits is \(bits); expected 4 to 8 bits per code value") }
        _ = try expectCount(count, "count", rows: ("n", rows), perRow: ("input size", box.model.inputSize))
        _ = try box.writer.run(.reject) { () throws(AutoencoderError) in
            try box.model.fitCodeQuantizer(data, rows: rows, bits: Int(bits))
        }
    }
}

@_cdecl("ae_model_quantizer_bits")
public func ae_model_quantizer_bits(_ handle: OpaquePointer?, _ bits: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_quantizer_bits") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let bits = try required(bits, "bits", "a pointer to an int")
        bits.pointee = Int32(model.codeQuantizer?.bits ?? 0)
    }
}

@_cdecl("ae_model_remove_quantizer")
public func ae_model_remove_quantizer(_ handle: OpaquePointer?) -> Int32 {
    guarded("ae_model_remove_quantizer") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try box.writer.run(.reject) { () throws(AutoencoderError) in try box.model.setCodeQuantizer(nil) }
    }
}

@_cdecl("ae_model_compress")
public func ae_model_compress(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                              _ data: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                              _ size: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_compress") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let input = try required(input, "input", "n * input size floats")
        let data = try required(data, "data", "a pointer that receives the buffer")
        let size = try required(size, "size", "a pointer that receives the byte count")
        let rows = try asInt(n, "n")
        _ = try expectCount(inputCount, "input_count", rows: ("n", rows), perRow: ("input size", model.inputSize))
        let bytes = try model.compress(input, rows: rows)
        guard let buffer = malloc(max(bytes.count, 1)) else {
            throw .init(.outOfMemory, "cannot allocate \(bytes.count) bytes for the compressed file")
        }
        bytes.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: bytes.count) } }
        data.pointee = buffer
        size.pointee = UInt(bytes.count)
    }
}

@_cdecl("ae_model_compressed_info")
public func ae_model_compressed_info(_ handle: OpaquePointer?, _ data: UnsafeRawPointer?, _ size: UInt,
                                     _ n: UnsafeMutablePointer<UInt>?, _ outputCount: UnsafeMutablePointer<UInt>?) -> Int32 {
    guarded("ae_model_compressed_info") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let bytes = try compressedBytes(data, size)
        let n = try required(n, "n", "a pointer that receives the sample count")
        let header = try model.compressedHeader(bytes, source: "data")
        let (floats, overflow) = header.samples.multipliedReportingOverflow(by: model.inputSize)
        guard !overflow else { throw .init(.outOfMemory, "the file's \(header.samples) samples do not fit in memory") }
        n.pointee = UInt(header.samples)
        outputCount?.pointee = UInt(floats)
    }
}

@_cdecl("ae_model_decompress")
public func ae_model_decompress(_ handle: OpaquePointer?, _ data: UnsafeRawPointer?, _ size: UInt,
                                _ output: UnsafeMutablePointer<Float>?, _ outputCount: UInt) -> Int32 {
    guarded("ae_model_decompress") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let bytes = try compressedBytes(data, size)
        let output = try required(output, "output", "a buffer of n * input size floats (ae_model_compressed_info gives n)")
        let count = try asInt(outputCount, "output_count")
        try model.decompress(bytes, source: "data", into: output, outputCount: count)
    }
}

/// The caller's compressed bytes, checked (NULL, size) but not copied.
private func compressedBytes(_ data: UnsafeRawPointer?, _ size: UInt) throws(AutoencoderError) -> UnsafeRawBufferPointer {
    let data = try required(data, "data", "the bytes of a compressed file (ae_model_compress)")
    return UnsafeRawBufferPointer(start: data, count: try asInt(size, "size"))
}
