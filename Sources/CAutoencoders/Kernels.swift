// Kernels: which GEMM kernel runs (CGemm's AVX-512F or AVX2 + FMA micro-kernels, or OpenBLAS),
// and the application's choice of it.

import Autoencoders
import CGemm

@_cdecl("ae_gemm_kernel_name")
public func ae_gemm_kernel_name() -> UnsafePointer<CChar>? {
    aeg_kernel_name(aeg_current_kernel())  // static C strings
}

@_cdecl("ae_gemm_kernel_description")
public func ae_gemm_kernel_description() -> UnsafePointer<CChar>? {
    aeg_description()  // a static buffer, rewritten by each call
}

@_cdecl("ae_set_gemm_kernel")
public func ae_set_gemm_kernel(_ name: UnsafePointer<CChar>?) -> Int32 {
    guarded("ae_set_gemm_kernel") { () throws(AutoencoderError) in
        try BLAS.selectGemmKernel(try utf8String(name, "name"))
    }
}
