import Autoencoders
#if canImport(Glibc)
import Glibc
#endif

/// What several commands share: loading a model and the --threads option.
enum Shared {
    static let threads = Option.value("--threads", "N")

    /// Sets the OpenBLAS thread count when --threads is given.
    static func applyThreads(_ arguments: Arguments) throws {
        if let threads = try arguments.int("--threads", minimum: 1, maximum: 1024) {
            BLAS.threadCount = threads
        }
    }

    /// --key-file KEY: the file's bytes, exactly, are a secret key; models are then loaded only if
    /// signed with it (HMAC-SHA256) and saved signed with it (docs/FILE_FORMAT.md).
    static let keyFile = Option.value("--key-file", "KEY")

    /// The key of --key-file, or nil without the option. At most 65537 bytes are read, so a pipe
    /// (`--key-file <(pass show model-key)`) works and /dev/zero cannot exhaust memory.
    static func key(_ arguments: Arguments) throws -> ModelFileKey? {
        guard let path = arguments.string("--key-file") else { return nil }
        // Read once: a pipe gives its bytes only once, and train needs the key twice.
        if let (cachedPath, key) = readKey, cachedPath == path { return key }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CLIError.failure("--key-file: cannot open '\(path)': \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 65537)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw CLIError.failure("--key-file: cannot read '\(path)': \(String(cString: strerror(errno)))") }
            if got == 0 { break }
            count += got
        }
        bytes.removeSubrange(count...)
        guard !bytes.isEmpty, bytes.count <= 65536 else {
            throw CLIError.failure("--key-file \(path): the key file holds \(bytes.count == 65537 ? "more than 65536" : String(bytes.count)) bytes; expected 1 to 65536 (for example 32 random bytes: head -c 32 /dev/urandom > model.key)")
        }
        let key = try ModelFileKey(bytes)
        readKey = (path, key)
        return key
    }
    private static var readKey: (String, ModelFileKey)?

    /// The model file at `path`, verified with the key of --key-file when given.
    static func loadModel(_ path: String, _ arguments: Arguments) throws -> Model {
        try Model.load(from: path, key: key(arguments))
    }

    /// Saves atomically, signed with the key of --key-file when given.
    static func saveModel(_ model: Model, to path: String, _ arguments: Arguments) throws {
        try model.save(to: path, key: key(arguments))
    }

    /// The ignore label of a segmentation model, nil for a reconstruction model.
    static func ignoreLabel(of model: Model) -> Int? {
        if case let .segmentation(ignoreIndex) = model.spec.task { return ignoreIndex }
        return nil
    }

    /// The variational code of a VAE (the spec's last encoder entry), nil for other models.
    static func variationalCode(of model: Model) -> (units: Int, beta: Float, warmupEpochs: Int)? {
        guard model.isVariational, let last = model.spec.encoder.last,
              case let .variational(units, beta, warmupEpochs, _) = last.kind else { return nil }
        return (units, beta, warmupEpochs)
    }

    /// "variational, beta 1, KL warm-up 0 epochs".
    static func describeVariational(_ code: (units: Int, beta: Float, warmupEpochs: Int)) -> String {
        "variational, beta \(format("%g", Double(code.beta))), KL warm-up \(code.warmupEpochs) epoch\(code.warmupEpochs == 1 ? "" : "s")"
    }

    /// "vae (variational, weight 0.1, loss mse), aux (weight 1, loss bce)": the spec's branch heads.
    static func describeBranches(_ model: Model) -> String {
        model.spec.branches.map { branch in
            let variational = branch.layers.contains { if case .variational = $0.kind { return true } else { return false } }
            return "\(branch.name) (\(variational ? "variational, " : "")weight \(format("%g", Double(branch.weight))), loss \(branch.loss.name))"
        }.joined(separator: ", ")
    }

    /// "discriminator [64, 64] relu; prior mixture of 10 on a circle of radius 4, std 0.5, supervised".
    static func describeAdversarial(_ adversarial: AdversarialSpec) -> String {
        let hidden = "[" + adversarial.hidden.map(String.init).joined(separator: ", ") + "]"
        return "discriminator \(hidden) \(adversarial.activation.name); prior " + describePrior(adversarial.prior)
    }

    static func describePrior(_ prior: Prior) -> String {
        switch prior {
        case .gaussian(let std): return "gaussian, std \(format("%g", Double(std)))"
        case .uniform(let low, let high): return "uniform on [\(format("%g", Double(low))), \(format("%g", Double(high)))]"
        case .mixture(let m):
            let placement = m.means == nil ? "on a circle of radius \(format("%g", Double(m.radius)))" : "at given means"
            return "mixture of \(m.components) \(placement), std \(format("%g", Double(m.std)))"
                + (m.supervised ? ", supervised (one label per sample)" : "")
        }
    }

    /// "segmentation, 2 classes, ignore label 255" or "reconstruction".
    static func describeTask(_ model: Model) -> String {
        if case let .sequenceCrossEntropy(ignore) = model.spec.task {
            return "text: per-step cross-entropy over \(model.vocabularySize) token ids, ignore index \(ignore)"
        }
        guard let ignore = ignoreLabel(of: model) else { return "reconstruction" }
        return "segmentation, \(model.classCount) classes of \(describeShape(Array(model.inputShape.dropFirst()))) positions, ignore label \(ignore)"
    }

    /// Refuses a reconstruction-only command (reconstruct, decode, score, threshold, predict) on a
    /// segmentation model, pointing to `segment`.
    static func requireReconstruction(_ model: Model, _ path: String, command: String) throws {
        guard model.isSegmentation else { return }
        throw CLIError.failure("\(path) is a segmentation model (\"loss\": \"cross_entropy\", \(model.classCount) classes): it labels every position of its input instead of reconstructing it, so '\(Console.toolName) \(command)' does not apply; use '\(Console.toolName) segment --model \(path) --data X.npy --out LABELS.npy'")
    }

    /// A model built from the spec file at `path`; spec problems name the file and the JSON path.
    static func buildModel(specPath path: String) throws -> Model {
        let text = String(decoding: try readFile(path), as: UTF8.self)
        do {
            return try Model(json: text)
        } catch {
            throw CLIError.failure("\(path): \(error.message)")
        }
    }
}
