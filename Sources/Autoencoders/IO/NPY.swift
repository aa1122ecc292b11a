// NumPy .npy files: `NPYArray` and reading (this file), the header and its parser
// (NPYHeader.swift), and writing (NPYWriter.swift).

/// A numeric array read from an .npy file, converted to Float32, row-major (C order).
public struct NPYArray: Sendable {
    /// The dimensions; `[]` for a 0-d (scalar) array, which holds one value.
    public var shape: [Int]
    /// The elements in C order: `values.count` is the product of `shape`.
    public var values: [Float]

    public init(shape: [Int], values: [Float]) {
        self.shape = shape
        self.values = values
    }
}

/// NumPy's .npy format (versions 1.0, 2.0 and 3.0): a magic string, a version, a header that is a
/// Python dict literal such as `{'descr': '<f4', 'fortran_order': False, 'shape': (4000, 28, 28), }`,
/// then the raw elements. See numpy/lib/format.py for the specification.
///
/// Reading never traps on a hostile file: every size in the file is checked against the file's
/// length and against overflow before anything is allocated, and a malformed file gives
/// `AutoencoderError(.format, "<path>: ...")`.
public enum NPY {
    /// Reads an .npy file of dtype `<f4`, `<f8`, `|u1`, `|i1`, `<i2`, `<u2`, `<i4`, `<u4`, `<i8`,
    /// `<u8` or `|b1` (also their big-endian `>` and native `=` forms), in C order, converting
    /// the elements to Float (integers above 2^24 and doubles are rounded to nearest).
    /// Errors: `.io` when the file cannot be opened or read; `.format` when it is not an .npy
    /// file, is truncated or corrupted, is in Fortran order, or has another dtype.
    public static func read(path: String) throws(AutoencoderError) -> NPYArray {
        let bytes = try FileIO.readAll(path: path)
        return try withBytes(bytes) { buffer throws(AutoencoderError) in try read(bytes: buffer, name: path) }
    }

    /// Reads an .npy file held in memory; `name` starts every error message.
    public static func read(bytes: UnsafeRawBufferPointer, name: String) throws(AutoencoderError) -> NPYArray {
        let header = try Header(parsing: bytes, name: name)
        let data = UnsafeRawBufferPointer(rebasing: bytes[header.dataOffset...])
        let values: [Float] = convert(data, header.dtype, header.count, integer: { Float($0) }, unsigned: { Float($0) }, float: { Float($0) })
        return NPYArray(shape: header.shape, values: values)
    }

    /// Reads an array of any integer (or bool) dtype exactly as Int, for index fixtures such as
    /// max-pool indices stored as `<i8`.
    /// Errors: as `read(path:)`, plus `.format` for a float dtype or a `u8` value above Int.max.
    public static func readIntegers(path: String) throws(AutoencoderError) -> (shape: [Int], values: [Int]) {
        let bytes = try FileIO.readAll(path: path)
        return try withBytes(bytes) { buffer throws(AutoencoderError) in
            let header = try Header(parsing: buffer, name: path)
            if header.dtype.kind == .float {
                throw .format("\(path): expected an integer dtype, found '\(header.dtype.text)'")
            }
            let data = UnsafeRawBufferPointer(rebasing: buffer[header.dataOffset...])
            if header.dtype.kind == .unsigned && header.dtype.size == 8 {
                // The one integer type that does not always fit in Int.
                for index in 0..<header.count {
                    let raw = data.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)
                    let value = header.dtype.bigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw)
                    if value > UInt64(Int.max) {
                        throw .format("\(path): element \(index) = \(value) does not fit in Int")
                    }
                }
            }
            let values: [Int] = convert(data, header.dtype, header.count, integer: { Int(truncatingIfNeeded: $0) },
                                        unsigned: { Int(truncatingIfNeeded: $0) }, float: { _ in 0 })
            return (header.shape, values)
        }
    }

    /// A shape as Python writes a tuple: `()`, `(5,)`, `(4000, 28, 28)`.
    static func describe(_ shape: [Int]) -> String {
        if shape.count == 1 { return "(\(shape[0]),)" }
        return "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    // MARK: - Element conversion

    /// Converts `count` elements of `dtype` in `data` (already checked to be long enough) to `T`:
    /// bools and integers through `integer`, except `u8` through `unsigned`, and floats through `float`
    /// (each element is converted once, so it is rounded once).
    private static func convert<T>(_ data: UnsafeRawBufferPointer, _ dtype: DType, _ count: Int, integer: (Int64) -> T,
                                   unsigned: (UInt64) -> T, float: (Double) -> T) -> [T] {
        let big = dtype.bigEndian
        switch (dtype.kind, dtype.size) {
        case (.float, 4):
            return load(data, count, big, UInt32.self) { float(Double(Float(bitPattern: $0))) }
        case (.float, _):
            return load(data, count, big, UInt64.self) { float(Double(bitPattern: $0)) }
        case (.bool, _):
            return load(data, count, big, UInt8.self) { integer($0 == 0 ? 0 : 1) }
        case (.signed, 1):
            return load(data, count, big, Int8.self) { integer(Int64($0)) }
        case (.signed, 2):
            return load(data, count, big, Int16.self) { integer(Int64($0)) }
        case (.signed, 4):
            return load(data, count, big, Int32.self) { integer(Int64($0)) }
        case (.signed, _):
            return load(data, count, big, Int64.self) { integer($0) }
        case (.unsigned, 1):
            return load(data, count, big, UInt8.self) { integer(Int64($0)) }
        case (.unsigned, 2):
            return load(data, count, big, UInt16.self) { integer(Int64($0)) }
        case (.unsigned, 4):
            return load(data, count, big, UInt32.self) { integer(Int64($0)) }
        case (.unsigned, _):
            return load(data, count, big, UInt64.self) { unsigned($0) }
        }
    }

    @inline(__always)
    private static func load<Raw: FixedWidthInteger, T>(_ data: UnsafeRawBufferPointer, _ count: Int, _ bigEndian: Bool,
                                                       _: Raw.Type, _ transform: (Raw) -> T) -> [T] {
        [T](unsafeUninitializedCapacity: count) { output, initialized in
            let size = MemoryLayout<Raw>.size
            if bigEndian {
                for index in 0..<count {
                    output.initializeElement(at: index, to: transform(Raw(bigEndian: data.loadUnaligned(fromByteOffset: index * size, as: Raw.self))))
                }
            } else {
                for index in 0..<count {
                    output.initializeElement(at: index, to: transform(Raw(littleEndian: data.loadUnaligned(fromByteOffset: index * size, as: Raw.self))))
                }
            }
            initialized = count
        }
    }

    /// `Array.withUnsafeBytes` with a typed error. Internal (not private) because NPYWriter.swift
    /// uses it too.
    static func withBytes<R>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws(AutoencoderError) -> R) throws(AutoencoderError) -> R {
        let result: Result<R, AutoencoderError> = bytes.withUnsafeBytes { buffer in
            do throws(AutoencoderError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}
