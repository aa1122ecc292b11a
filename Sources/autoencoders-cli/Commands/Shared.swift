import Autoencoders

/// What several commands share: loading a model and the --threads option.
enum Shared {
    static let threads = Option.value("--threads", "N")

    /// Sets the OpenBLAS thread count when --threads is given.
    static func applyThreads(_ arguments: Arguments) throws {
        if let threads = try arguments.int("--threads", minimum: 1, maximum: 1024) {
            BLAS.threadCount = threads
        }
    }

    static func loadModel(_ path: String) throws -> Model {
        try Model.load(from: path)
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
