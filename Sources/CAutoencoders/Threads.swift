// Threads: the thread count of the math kernels (OpenBLAS), process-wide.

import Autoencoders

/// More threads than this is a mistake (and OpenBLAS caps its pool far below it anyway).
private let maximumThreads: Int32 = 1024

@_cdecl("ae_set_num_threads")
public func ae_set_num_threads(_ threads: Int32) -> Int32 {
    guarded("ae_set_num_threads") { () throws(AutoencoderError) in
        guard threads >= 1, threads <= maximumThreads else {
            throw .invalidArgument("threads is \(threads); expected 1 to \(maximumThreads)")
        }
        BLAS.threadCount = Int(threads)
    }
}

@_cdecl("ae_get_num_threads")
public func ae_get_num_threads() -> Int32 {
    let threads = BLAS.threadCount
    return threads >= 1 ? Int32(clamping: threads) : 0
}
