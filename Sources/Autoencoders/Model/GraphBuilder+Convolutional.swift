/// Builds the convolutional and structural entries of a spec: convolution, transposed
/// convolution, pooling, unpooling (with index links to a pooling layer), batch norm, dropout,
/// reshape and concatenation. Shapes are per sample: [C, L] for 1-D, [C, H, W] for 2-D.
extension GraphBuilder {
    mutating func addConvolutional(_ entry: LayerSpec, name: String, inputs: [Int], isEncoder: Bool) throws(AutoencoderError) {
        throw .invalidSpec(entry.path, "convolutional layers are being built")
    }
}
