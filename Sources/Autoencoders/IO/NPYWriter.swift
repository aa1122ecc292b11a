// Writing .npy files: float32 (or int32, for labels), little-endian, C order, version 1.0 (2.0 when the header would not
// fit in 64 KiB), with the data aligned to 64 bytes as NumPy aligns it.

extension NPY {
    /// Writes `values` as a float32 little-endian C-order .npy v1.0 file (v2.0 if the header
    /// would not fit in 64 KiB), atomically: see `FileIO.writeAtomically`.
    /// Errors: `.invalidArgument` for a negative dimension or an empty path; `.shapeMismatch` when
    /// the product of `shape` is not `values.count`; `.io` naming the path and the system's reason.
    public static func write(path: String, shape: [Int], values: UnsafeBufferPointer<Float>) throws(AutoencoderError) {
        try checkShape(path: path, shape: shape, count: values.count)
        let bytes = encode(shape: shape, values: values)
        try withBytes(bytes) { buffer throws(AutoencoderError) in
            try FileIO.writeAtomically(path: path, bytes: buffer)
        }
    }

    /// Writes `values` as an int32 little-endian C-order .npy file (class labels), atomically;
    /// the errors of the float32 `write`.
    public static func write(path: String, shape: [Int], integers values: UnsafeBufferPointer<Int32>) throws(AutoencoderError) {
        try checkShape(path: path, shape: shape, count: values.count)
        let bytes = encode(shape: shape, descr: "<i4", count: values.count) { UInt32(bitPattern: values[$0]) }
        try withBytes(bytes) { buffer throws(AutoencoderError) in
            try FileIO.writeAtomically(path: path, bytes: buffer)
        }
    }

    private static func checkShape(path: String, shape: [Int], count values: Int) throws(AutoencoderError) {
        var count = 1
        for dimension in shape {
            if dimension < 0 {
                throw .invalidArgument("\(path): shape \(describe(shape)) has a negative dimension")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow {
                throw .invalidArgument("\(path): shape \(describe(shape)) has too many elements")
            }
            count = product
        }
        if count != values {
            throw .shapeMismatch("\(path): shape \(describe(shape)) holds \(count) values, but \(values) were given")
        }
    }

    /// The bytes of a float32 little-endian C-order .npy file. Its data starts at a multiple of
    /// 64 bytes, as NumPy's own files do.
    /// Precondition: every dimension is non-negative and their product is `values.count`.
    public static func encode(shape: [Int], values: UnsafeBufferPointer<Float>) -> [UInt8] {
        encode(shape: shape, descr: "<f4", count: values.count) { values[$0].bitPattern }
    }

    /// The bytes of a .npy file of `count` 4-byte elements of type `descr`; `element(i)` gives
    /// the bits of element i.
    private static func encode(shape: [Int], descr: String, count: Int, element: (Int) -> UInt32) -> [UInt8] {
        precondition(shape.allSatisfy { $0 >= 0 }, "NPY.encode: negative dimension in \(shape)")
        precondition(shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) == count,
                     "NPY.encode: shape \(shape) does not hold \(count) values")
        var dict = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(describe(shape)), }"
        // Version 1.0 stores the header length in 2 bytes, version 2.0 in 4.
        var preamble = 10
        var version: UInt8 = 1
        if dict.utf8.count + 1 + preamble > 65535 {
            preamble = 12
            version = 2
        }
        let unpadded = preamble + dict.utf8.count + 1
        dict += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        let headerLength = dict.utf8.count

        var bytes = [UInt8]()
        bytes.reserveCapacity(preamble + headerLength + count * 4)
        bytes += [0x93] + Array("NUMPY".utf8) + [version, 0]
        if version == 1 {
            bytes += [UInt8(headerLength & 0xff), UInt8(headerLength >> 8)]
        } else {
            bytes += (0..<4).map { UInt8((headerLength >> (8 * $0)) & 0xff) }
        }
        bytes += dict.utf8
        let dataStart = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: count * 4))
        bytes.withUnsafeMutableBytes { buffer in
            for index in 0..<count {
                buffer.storeBytes(of: element(index).littleEndian, toByteOffset: dataStart + index * 4, as: UInt32.self)
            }
        }
        return bytes
    }
}
