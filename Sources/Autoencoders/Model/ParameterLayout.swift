/// The parameter tensors a spec's model has, known without building the model: the graph of layers
/// is built (shapes only; layers allocate nothing until they are bound), but no parameter,
/// gradient or workspace buffer is allocated and nothing is initialised. A loader compares this
/// with a file's tensor table before it builds the model, so a few hundred bytes of spec cannot
/// make it allocate gigabytes (ModelFile.swift).
struct ParameterLayout {
    let entries: [ParameterEntry]
    /// Floats in the flat parameter buffer.
    let totalCount: Int
    /// Floats the optimizer updates (the length of each optimizer state tensor).
    let trainableCount: Int
    /// Floats per input sample (the length of each input scaling tensor).
    let inputSize: Int

    init(spec: ModelSpec) throws(AutoencoderError) {
        var builder = GraphBuilder(spec: spec)
        let graph = try builder.build()
        let table = try ParameterTable(graph: graph)
        entries = table.entries
        totalCount = table.totalCount
        trainableCount = table.trainableCount
        inputSize = graph.inputSize
    }
}
