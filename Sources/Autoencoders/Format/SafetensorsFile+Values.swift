// Tensor values of a validated `SafetensorsFile`: floating-point tensors as Float32 (F32 as
// stored, F64 rounded, F16 and BF16 converted exactly) and integer tensors as Int64.

extension SafetensorsFile {
    private func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }

    private func requireEntry(_ name: String) throws(AutoencoderError) -> SafetensorsEntry {
        guard let entry = entry(named: name) else { throw fail("no tensor named '\(name)'") }
        return entry
    }

    private func requireFloatingPoint(_ entry: SafetensorsEntry) throws(AutoencoderError) {
        guard entry.dtype.isFloatingPoint else {
            throw fail("tensor '\(entry.name)' has dtype \(entry.dtype.rawValue); expected a floating-point tensor")
        }
    }

    /// Float32 values of a tensor (F32 as stored; F64, F16 and BF16 converted). Errors if the
    /// name is missing or the dtype is an integer type.
    public func floats(_ name: String) throws(AutoencoderError) -> [Float] {
        let entry = try requireEntry(name)
        try requireFloatingPoint(entry)
        let count = entry.elementCount
        return [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if let base = buffer.baseAddress { decodeFloats(entry, into: base, count: count) }
            initialized = count
        }
    }

    /// Copies a floating-point tensor's values (F32; F64, F16 and BF16 are converted) into
    /// caller memory of exactly `count` elements. Errors if the name is missing, the dtype is
    /// an integer type, or the tensor does not have `count` elements.
    public func copyFloats(_ name: String, into destination: UnsafeMutablePointer<Float>, count: Int) throws(AutoencoderError) {
        let entry = try requireEntry(name)
        try requireFloatingPoint(entry)
        guard entry.elementCount == count else {
            throw fail("tensor '\(name)' has \(entry.elementCount) elements (shape \(entry.shape)), expected \(count)")
        }
        decodeFloats(entry, into: destination, count: count)
    }

    /// Integer values of a tensor as Int64 (I64 as stored; I32 and U8 widened). Errors if the
    /// name is missing or the dtype is a floating-point type.
    public func int64s(_ name: String) throws(AutoencoderError) -> [Int64] {
        let entry = try requireEntry(name)
        guard !entry.dtype.isFloatingPoint else {
            throw fail("tensor '\(name)' has dtype \(entry.dtype.rawValue); expected an integer tensor")
        }
        let count = entry.elementCount
        let start = entry.byteRange.lowerBound
        let dtype = entry.dtype
        return bytes.withUnsafeBytes { raw -> [Int64] in
            [Int64](unsafeUninitializedCapacity: count) { out, initialized in
                switch dtype {
                case .i64:
                    for i in 0..<count {
                        out[i] = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: Int64.self))
                    }
                case .i32:
                    for i in 0..<count {
                        out[i] = Int64(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: Int32.self)))
                    }
                case .u8:
                    for i in 0..<count { out[i] = Int64(raw[start + i]) }
                case .i8:
                    for i in 0..<count { out[i] = Int64(Int8(bitPattern: raw[start + i])) }
                case .f32, .f64, .f16, .bf16:
                    for i in 0..<count { out[i] = 0 }   // unreachable: rejected above
                }
                initialized = count
            }
        }
    }

    /// Decodes `count` (== entry.elementCount, validated by the callers) floating-point values.
    private func decodeFloats(_ entry: SafetensorsEntry, into out: UnsafeMutablePointer<Float>, count: Int) {
        let start = entry.byteRange.lowerBound
        bytes.withUnsafeBytes { raw in
            switch entry.dtype {
            case .f32:
                #if _endian(little)
                if count > 0, let base = raw.baseAddress {
                    UnsafeMutableRawPointer(out).copyMemory(from: base + start, byteCount: count * 4)
                }
                #else
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: UInt32.self)))
                }
                #endif
            case .f64:
                for i in 0..<count {
                    out[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))))
                }
            case .f16:
                for i in 0..<count {
                    out[i] = halfToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: start + 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .i64, .i32, .u8, .i8:
                for i in 0..<count { out[i] = 0 }   // unreachable: rejected by the callers
            }
        }
    }
}

/// IEEE 754 binary16 -> binary32 (exact; NaN payloads and infinities preserved).
@inline(__always)
private func halfToFloat(_ h: UInt16) -> Float {
    let sign: UInt32 = UInt32(h & 0x8000) << 16
    let exponent = UInt32((h >> 10) & 0x1F)
    let mantissa = UInt32(h & 0x3FF)
    if exponent == 0 {
        // Zero or subnormal: mantissa * 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    if exponent == 0x1F {
        return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
    }
    return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
}
