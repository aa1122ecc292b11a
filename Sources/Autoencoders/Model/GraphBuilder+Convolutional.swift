/// Builds the convolutional and structural entries of a spec: convolution, transposed
/// convolution, pooling, unpooling (with index links to a pooling layer), batch norm, dropout,
/// group norm, reshape, concatenation and addition. Shapes are per sample: [C, L] for 1-D, [C, H, W]
/// for 2-D, [C, D, H, W] for 3-D.
extension GraphBuilder {
    mutating func addConvolutional(_ entry: LayerSpec, name: String, inputs: [Int], isEncoder: Bool) throws(AutoencoderError) {
        let path = entry.path
        // Layers report impossible configurations as .invalidArgument; in a spec they belong to the entry.
        func build<L: Layer>(_ make: () throws(AutoencoderError) -> L) throws(AutoencoderError) -> L {
            do { return try make() } catch { throw error.kind == .invalidArgument ? .invalidSpec(path, error.message) : error }
        }
        if case .concat = entry.kind {
            let layer = try build { () throws(AutoencoderError) in try Concat(inputShapes: inputs.map { shape(of: $0) }) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
            return
        }
        if case .add = entry.kind {
            let layer = try build { () throws(AutoencoderError) in try Add(inputShapes: inputs.map { shape(of: $0) }) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
            return
        }
        guard inputs.count == 1 else {
            throw .invalidSpec("\(path).inputs", "this layer reads exactly one node (only concat and add read several)")
        }
        let input = shape(of: inputs[0])
        func requireRank(_ dimensions: Int) throws(AutoencoderError) {
            guard input.count == dimensions + 1 else {
                let expected = dimensions == 3 ? "[channels, depth, height, width]"
                    : dimensions == 2 ? "[channels, height, width]" : "[channels, length]"
                throw .invalidSpec(path, "a \(dimensions)-D layer needs input of shape \(expected), got \(input)")
            }
        }
        switch entry.kind {
        case let .convolution(c):
            try requireRank(c.dimensions)
            let initializer = c.initializer ?? spec.initializer ?? (c.activation ?? .identity).preferredInitializer
            let layer = try build { () throws(AutoencoderError) in
                try Convolution(inputShape: input, filters: c.filters, kernel: c.kernel, stride: c.stride, padding: c.padding,
                                dilation: c.dilation, bias: c.bias, initializer: initializer)
            }
            let node = try add(name, layer, inputs, encoder: isEncoder, path: path)
            try addActivation(c.activation, after: node, name: name, encoder: isEncoder, path: path)
        case let .transposedConvolution(c):
            try requireRank(c.dimensions)
            let initializer = c.initializer ?? spec.initializer ?? (c.activation ?? .identity).preferredInitializer
            let layer = try build { () throws(AutoencoderError) in
                try TransposedConvolution(inputShape: input, filters: c.filters, kernel: c.kernel, stride: c.stride,
                                          padding: c.padding, outputPadding: c.outputPadding, dilation: c.dilation,
                                          bias: c.bias, initializer: initializer)
            }
            let node = try add(name, layer, inputs, encoder: isEncoder, path: path)
            try addActivation(c.activation, after: node, name: name, encoder: isEncoder, path: path)
        case let .pooling(p):
            try requireRank(p.dimensions)
            if p.dimensions == 3 {
                // A volume whose extent the windows do not tile would lose its last voxels and no
                // longer line up with its skip connection or unpooling: refused in a spec.
                for (axis, extent) in zip(Convolution.axisNames(3), input.dropFirst()) {
                    let span = extent + 2 * p.padding - p.kernel
                    guard span >= 0, span % p.stride == 0 else {
                        throw .invalidSpec(path, "the input \(axis) \(extent) (input shape \(input)) does not divide by the pooling "
                                           + "(kernel \(p.kernel), stride \(p.stride), padding \(p.padding)): \(axis) + 2·padding − kernel "
                                           + "must be a multiple of the stride")
                    }
                }
            }
            let layer: Layer = p.isMax
                ? try build { () throws(AutoencoderError) in try MaxPool(kernel: p.kernel, stride: p.stride, padding: p.padding, inputShape: input) }
                : try build { () throws(AutoencoderError) in try AvgPool(kernel: p.kernel, stride: p.stride, padding: p.padding, inputShape: input) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        case let .maxUnpool(dimensions, poolName):
            try requireRank(dimensions)
            let poolNode = try node(named: poolName, path: "\(path).indices_from")
            guard poolNode != Graph.modelInput, let pool = nodes[poolNode].layer as? MaxPool else {
                throw .invalidSpec("\(path).indices_from", "\"\(poolName)\" is not a max pooling layer; max unpooling needs the indices of one")
            }
            guard pool.outputShape == input else {
                throw .invalidSpec(path, "max unpooling undoes \"\(poolName)\", whose output is \(pool.outputShape), but its input here is \(input)")
            }
            let layer = try build { () throws(AutoencoderError) in try MaxUnpool(undoing: pool) }
            try add(name, layer, inputs, links: [poolNode], encoder: isEncoder, path: path)
        case let .upsample(dimensions, scale, bedOfNails):
            try requireRank(dimensions)
            let layer: Layer = bedOfNails
                ? try build { () throws(AutoencoderError) in try BedOfNails(scale: scale, inputShape: input) }
                : try build { () throws(AutoencoderError) in try NearestUpsample(scale: scale, inputShape: input) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        case let .batchNorm(momentum, epsilon):
            let layer = try build { () throws(AutoencoderError) in try BatchNorm(shape: input, momentum: momentum, epsilon: epsilon) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        case let .groupNorm(groups, epsilon):
            let layer = try build { () throws(AutoencoderError) in try GroupNorm(shape: input, groups: groups, epsilon: epsilon) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        case let .dropout(rate):
            let layer = try build { () throws(AutoencoderError) in try Dropout(rate: rate, shape: input) }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        case let .reshape(target):
            let layer = try build { () throws(AutoencoderError) in
                if let target { return try Reshape(from: input, to: target) }
                return try Reshape(flattening: input)
            }
            try add(name, layer, inputs, encoder: isEncoder, path: path)
        default:
            throw .invalidSpec(path, "internal: \(entry.kind) is not a convolutional entry")
        }
    }
}
