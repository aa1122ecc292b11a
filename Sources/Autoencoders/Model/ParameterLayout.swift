/// The parameter tensors a spec's model has, known before the model is built: the graph of layers
/// is built (shapes only; layers allocate nothing until they are bound), but no parameter,
/// gradient or workspace buffer is allocated and nothing is initialised. A loader compares this
/// with a file's tensor table before it builds the model, so a few hundred bytes of spec cannot
/// make it allocate gigabytes (ModelFile.swift).
struct ParameterLayout {
    /// The graph and its parameter table, built once: `Model(spec:layout:initialize:)` adopts them,
    /// so a loader does not build the graph a second time.
    let graph: Graph
    let table: ParameterTable
    /// An adversarial autoencoder's discriminator (its parameters are the table's last group).
    let discriminator: Discriminator?

    var entries: [ParameterEntry] { table.entries }
    /// Floats in the flat parameter buffer.
    var totalCount: Int { table.totalCount }
    /// Floats the optimizer updates (the length of each optimizer state tensor).
    var trainableCount: Int { table.trainableCount }
    /// Floats per input sample (the length of each input scaling tensor).
    var inputSize: Int { graph.inputSize }

    init(spec: ModelSpec) throws(AutoencoderError) {
        var builder = GraphBuilder(spec: spec)
        graph = try builder.build()
        if let adversarial = spec.adversarial {
            try Discriminator.checkAutoencoder(spec: spec, graph: graph)
            discriminator = try Discriminator(spec: adversarial, codeSize: graph.codeSize)
        } else {
            discriminator = nil
        }
        table = try ParameterTable(graph: graph, discriminator: discriminator?.graph)
    }
}
