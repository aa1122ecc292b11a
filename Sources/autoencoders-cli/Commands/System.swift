#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Autoencoders

/// `autoencoders inspect --system`: what this machine gives the library: the CPU and its vector
/// extensions, the GEMM kernel selected for it and why, OpenBLAS's own core, the thread settings.
enum SystemInfo {
    /// The CPU flags worth reporting for the kernels (from /proc/cpuinfo).
    static let vectorFlags = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw", "avx512vl",
                              "avx512_vnni", "avx512_bf16"]

    static func run(_ arguments: Arguments) throws {
        let cpu = cpuInfo()
        let names: [String] = ["OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "AE_GEMM", "AE_GEMM_INT8"]
        let environment: [(String, String?)] = names.map { name in (name, getenv(name).map { String(cString: $0) }) }
        if arguments.flag("--json") {
            var settings: JSONObject = [:]
            for (name, value) in environment { settings[name] = value.map { JSON.string($0) } ?? JSON.null }
            let object: JSONObject = [
                "library_version": .string(Version.string),
                "cpu": .string(cpu.model),
                "cpu_family": .string(cpu.family),
                "logical_cpus": .number(Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))),
                "vector_flags": .array(cpu.flags.map { .string($0) }),
                "gemm_kernel": .string(BLAS.gemmKernel),
                "gemm": .string(BLAS.gemmDescription),
                "int8_kernel": .string(Int8GEMM.kernel),
                "threads": .number(Double(BLAS.threadCount)),
                "environment": .object(settings),
            ]
            Console.out(JSON.object(object).serialized(pretty: true))
            return
        }
        var lines: [String] = []
        func row(_ key: String, _ value: String) { lines.append(key.padding(17) + value) }
        row("library version", Version.string)
        row("cpu", "\(cpu.model) (family \(cpu.family)), \(sysconf(Int32(_SC_NPROCESSORS_ONLN))) logical CPUs")
        row("vector flags", cpu.flags.isEmpty ? "none of \(vectorFlags.joined(separator: " "))" : cpu.flags.joined(separator: " "))
        row("gemm kernel", BLAS.gemmKernel)
        row("gemm", BLAS.gemmDescription)
        row("int8 kernel", Int8GEMM.kernel + " (int8 models; AE_GEMM_INT8=avx512vnni|avx2|portable chooses)")
        row("threads", "\(BLAS.threadCount) (--threads N, ae_set_num_threads)")
        row("environment", environment.map { "\($0.0)=\($0.1 ?? "(unset)")" }.joined(separator: " "))
        Console.out(lines.joined(separator: "\n"))
    }

    /// Model name, family and the reported vector flags of the first CPU in /proc/cpuinfo.
    static func cpuInfo() -> (model: String, family: String, flags: [String]) {
        var model = "unknown", family = "?", flags: [String] = []
        guard let file = fopen("/proc/cpuinfo", "r") else { return (model, family, flags) }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            let text = String(cString: line)
            guard let colon = text.firstIndex(of: ":") else { continue }
            let key = text[..<colon].trimmingSpaces, value = text[text.index(after: colon)...].trimmingSpaces
            if key == "model name", model == "unknown" { model = value }
            if key == "cpu family", family == "?" { family = value }
            if key == "flags", flags.isEmpty {
                let present = Set(value.split(separator: " ").map(String.init))
                flags = vectorFlags.filter { present.contains($0) }
                break
            }
        }
        return (model, family, flags)
    }
}
