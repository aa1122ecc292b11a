// Writing safetensors files (the container is described in Safetensors.swift): tensors back to
// back in the order added, and a deterministic header padded so the data starts at a multiple of 8.

/// Builds a safetensors file. Tensors are laid out in the order added, back to back (the format
/// allows no holes); the header is padded with spaces so the data section starts at a multiple of
/// 8. The output is deterministic: the same calls give the same bytes.
public struct SafetensorsWriter: Sendable {
    /// Written as "__metadata__" with keys sorted; omitted when empty.
    public var metadata: [String: String] = [:]

    private struct Tensor: Sendable {
        var name: String
        var dtype: SafetensorsDType
        var shape: [Int]
        var range: Range<Int>
    }
    private var tensors: [Tensor] = []
    private var names = Set<String>()
    private var data: [UInt8] = []

    public init() {}

    /// Adds an F32 tensor; the values are copied in. Names must be unique, non-empty and not
    /// "__metadata__"; the product of `shape` must equal the number of values.
    public mutating func add(_ name: String, shape: [Int], floats: UnsafeBufferPointer<Float>) throws(AutoencoderError) {
        let start = try reserve(name, shape: shape, dtype: .f32, count: floats.count)
        #if _endian(little)
        data.append(contentsOf: UnsafeRawBufferPointer(floats))
        #else
        for value in floats { appendLittleEndian(value.bitPattern) }
        #endif
        tensors.append(Tensor(name: name, dtype: .f32, shape: shape, range: start..<data.count))
    }

    /// Adds an I64 tensor; the values are copied in. Same rules as the F32 variant.
    public mutating func add(_ name: String, shape: [Int], int64s: UnsafeBufferPointer<Int64>) throws(AutoencoderError) {
        let start = try reserve(name, shape: shape, dtype: .i64, count: int64s.count)
        #if _endian(little)
        data.append(contentsOf: UnsafeRawBufferPointer(int64s))
        #else
        for value in int64s { appendLittleEndian(UInt64(bitPattern: value)) }
        #endif
        tensors.append(Tensor(name: name, dtype: .i64, shape: shape, range: start..<data.count))
    }

    /// Convenience: adds an F32 tensor from an array.
    public mutating func add(_ name: String, shape: [Int], floats: [Float]) throws(AutoencoderError) {
        try floats.withUnsafeBufferPointer { (buffer) throws(AutoencoderError) in
            try add(name, shape: shape, floats: buffer)
        }
    }

    /// Convenience: adds an I64 tensor from an array.
    public mutating func add(_ name: String, shape: [Int], int64s: [Int64]) throws(AutoencoderError) {
        try int64s.withUnsafeBufferPointer { (buffer) throws(AutoencoderError) in
            try add(name, shape: shape, int64s: buffer)
        }
    }

    #if !_endian(little)
    private mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }
    #endif

    /// Validates a new tensor; returns its start offset in the data section.
    private mutating func reserve(_ name: String, shape: [Int], dtype: SafetensorsDType, count: Int) throws(AutoencoderError) -> Int {
        guard !name.isEmpty else { throw .invalidArgument("safetensors tensor name must not be empty") }
        guard name != "__metadata__" else {
            throw .invalidArgument("safetensors tensor name '__metadata__' is reserved")
        }
        guard !names.contains(name) else {
            throw .invalidArgument("safetensors tensor name '\(name)' is used twice")
        }
        var elements = 1
        for d in shape {
            guard d >= 0 else { throw .invalidArgument("tensor '\(name)': shape \(shape) has a negative dimension") }
            let (product, overflow) = elements.multipliedReportingOverflow(by: d)
            guard !overflow else { throw .invalidArgument("tensor '\(name)': shape \(shape) has too many elements") }
            elements = product
        }
        guard elements == count else {
            throw .invalidArgument("tensor '\(name)': shape \(shape) has \(elements) elements but \(count) values were given")
        }
        let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, byteCount <= Int.max - data.count else {
            throw .invalidArgument("tensor '\(name)': too many bytes")
        }
        names.insert(name)
        return data.count
    }

    /// The complete file bytes.
    public func encoded() -> [UInt8] {
        let header = Self.header(metadata: metadata,
                                 tensors: tensors.map { ($0.name, $0.dtype, $0.shape, $0.range) })
        var out: [UInt8] = []
        out.reserveCapacity(header.count + data.count)
        out.append(contentsOf: header)
        out.append(contentsOf: data)
        return out
    }

    /// The 8-byte length and the JSON header (metadata keys sorted, tensors in the order given,
    /// padded with spaces so that the data section starts at a multiple of 8). Shared with the
    /// streaming model-file writer, which sends the tensors after it without copying them.
    static func header(metadata: [String: String],
                       tensors: [(name: String, dtype: SafetensorsDType, shape: [Int], range: Range<Int>)]) -> [UInt8] {
        var header: [UInt8] = []
        header.append(UInt8(ascii: "{"))
        var first = true
        if !metadata.isEmpty {
            appendJSONString("__metadata__", to: &header)
            header.append(contentsOf: ":{".utf8)
            var firstPair = true
            for key in metadata.keys.sorted() {
                if !firstPair { header.append(UInt8(ascii: ",")) }
                firstPair = false
                appendJSONString(key, to: &header)
                header.append(UInt8(ascii: ":"))
                appendJSONString(metadata[key] ?? "", to: &header)
            }
            header.append(UInt8(ascii: "}"))
            first = false
        }
        for tensor in tensors {
            if !first { header.append(UInt8(ascii: ",")) }
            first = false
            appendJSONString(tensor.name, to: &header)
            header.append(contentsOf: ":{\"dtype\":\"".utf8)
            header.append(contentsOf: tensor.dtype.rawValue.utf8)
            header.append(contentsOf: "\",\"shape\":[".utf8)
            header.append(contentsOf: tensor.shape.map(String.init).joined(separator: ",").utf8)
            header.append(contentsOf: "],\"data_offsets\":[".utf8)
            header.append(contentsOf: "\(tensor.range.lowerBound),\(tensor.range.upperBound)".utf8)
            header.append(contentsOf: "]}".utf8)
        }
        header.append(UInt8(ascii: "}"))
        // Pad so that 8 + header.count is a multiple of 8.
        while header.count % 8 != 0 { header.append(0x20) }

        var out: [UInt8] = []
        out.reserveCapacity(8 + header.count)
        let length = UInt64(header.count)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: length >> UInt64(8 * i))) }
        out.append(contentsOf: header)
        return out
    }
}

/// Appends `string` as a JSON string literal (quotes, backslashes and control characters escaped).
func appendJSONString(_ string: String, to out: inout [UInt8]) {
    let hex: [UInt8] = Array("0123456789abcdef".utf8)
    out.append(UInt8(ascii: "\""))
    for byte in string.utf8 {
        switch byte {
        case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
        case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
        case 0x0A: out.append(contentsOf: "\\n".utf8)
        case 0x0D: out.append(contentsOf: "\\r".utf8)
        case 0x09: out.append(contentsOf: "\\t".utf8)
        case 0x08: out.append(contentsOf: "\\b".utf8)
        case 0x0C: out.append(contentsOf: "\\f".utf8)
        case 0x00..<0x20:
            out.append(contentsOf: "\\u00".utf8)
            out.append(hex[Int(byte >> 4)])
            out.append(hex[Int(byte & 0xF)])
        default:
            out.append(byte)
        }
    }
    out.append(UInt8(ascii: "\""))
}
