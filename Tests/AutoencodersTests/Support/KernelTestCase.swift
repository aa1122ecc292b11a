import XCTest
@testable import Autoencoders

/// A test case that switches GEMM kernels and thread counts: each test starts from the thread
/// count it found and ends with the automatic kernel choice and that thread count again, so no
/// setting leaks into the tests that run after it.
class KernelTestCase: XCTestCase {
    private var savedThreadCount = 1

    override func setUp() {
        super.setUp()
        savedThreadCount = BLAS.threadCount
    }

    override func tearDown() {
        try? BLAS.selectGemmKernel("auto")
        BLAS.threadCount = savedThreadCount
        super.tearDown()
    }
}
