import CGemm

/// The int8 GEMM kernels (CGemm/int8.c): "avx512vnni" (vpdpbusd), "avx2" (vpmaddwd on operands
/// widened to int16) and "portable" (C). All give bit-identical int32 results; the best one this
/// CPU and OS support is chosen on first use, or the one the `AE_GEMM_INT8` environment variable
/// names when it can run here.
public enum Int8GEMM {
    public static let kernelNames = ["portable", "avx2", "avx512vnni"]

    /// The kernel in use.
    public static var kernel: String { String(cString: aeg_int8_kernel_name(aeg_int8_current_kernel())) }

    /// Whether this CPU and OS can run the named kernel (false for an unknown name).
    public static func isSupported(_ name: String) -> Bool {
        guard let index = kernelNames.firstIndex(of: name) else { return false }
        return aeg_int8_kernel_supported(aeg_int8_kernel(rawValue: UInt32(index))) != 0
    }

    /// Selects the kernel ("auto", "avx512vnni", "avx2", "portable"), process-wide. Throws, leaving
    /// the kernel unchanged: `.invalidArgument` for an unknown name, `.unsupported` with the
    /// reason when the CPU or the OS lacks what it needs.
    public static func select(_ name: String) throws(AutoencoderError) {
        var reason = [CChar](repeating: 0, count: 512)
        let status = aeg_int8_select(name, &reason, reason.count)
        let message = "kernel: " + String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if status == -1 { throw .invalidArgument(message) }
        if status != 0 { throw .unsupported(message) }
    }

    /// C[i, j] = Σ_p a[i, p] · b[j, p] with the named kernel (a `[m, k]` unsigned, b `[n, k]`
    /// signed, both row-major): for tests comparing the kernels.
    public static func multiply(kernel name: String, m: Int, n: Int, k: Int, a: [UInt8], b: [Int8]) throws(AutoencoderError) -> [Int32] {
        guard let index = kernelNames.firstIndex(of: name) else {
            throw .invalidArgument("kernel: unknown int8 kernel \"\(name)\"; expected one of \(kernelNames.joined(separator: ", "))")
        }
        guard m >= 0, n >= 0, k >= 0, k <= Int8Weights.maxColumns, a.count == m * k, b.count == n * k else {
            throw .shapeMismatch("a must hold m·k and b n·k values, with k ≤ \(Int8Weights.maxColumns)")
        }
        var c = [Int32](repeating: 0, count: m * n)
        let status = a.withUnsafeBufferPointer { ap in
            b.withUnsafeBufferPointer { bp in
                c.withUnsafeMutableBufferPointer { cp in
                    aeg_gemm_u8s8_with(aeg_int8_kernel(rawValue: UInt32(index)), m, n, k, ap.baseAddress, k, bp.baseAddress, k,
                                       cp.baseAddress, n)
                }
            }
        }
        guard status == 0 else { throw .unsupported("kernel: the \(name) int8 kernel cannot run on this CPU or OS") }
        return c
    }

    /// The same product with the packed AVX-512 VNNI batch kernel (b packed as the int8 layers
    /// pack their weights; k padded to a multiple of 4 with zeros): for tests.
    public static func multiplyPacked(m: Int, n: Int, k: Int, a: [UInt8], b: [Int8]) throws(AutoencoderError) -> [Int32] {
        guard m >= 0, n >= 1, k >= 1, k <= Int8Weights.maxColumns, a.count == m * k, b.count == n * k else {
            throw .shapeMismatch("a must hold m·k and b n·k values, with n, k ≥ 1 and k ≤ \(Int8Weights.maxColumns)")
        }
        let k4 = (k + 3) / 4 * 4
        var a4 = [UInt8](repeating: 0, count: max(m * k4, 1)), b4 = [Int8](repeating: 0, count: n * k4)
        for i in 0..<m { for p in 0..<k { a4[i * k4 + p] = a[i * k + p] } }
        for j in 0..<n { for p in 0..<k { b4[j * k4 + p] = b[j * k + p] } }
        var packed = [Int8](repeating: 0, count: aeg_int8_packed_size(n, k4))
        var c = [Int32](repeating: 0, count: max(m * n, 1))
        let status = b4.withUnsafeBufferPointer { bp in
            packed.withUnsafeMutableBufferPointer { pp in
                aeg_int8_pack(n, k4, bp.baseAddress, k4, pp.baseAddress)
                return a4.withUnsafeBufferPointer { ap in
                    c.withUnsafeMutableBufferPointer { cp in
                        aeg_gemm_u8s8_packed(m, n, k4, ap.baseAddress, k4, pp.baseAddress, cp.baseAddress, n)
                    }
                }
            }
        }
        guard status == 0 else { throw .unsupported("kernel: the packed avx512vnni int8 kernel cannot run on this CPU or OS") }
        return Array(c.prefix(m * n))
    }
}
