import CGemm

/// Inference on pre-packed weights (docs/ARCHITECTURE.md, "Inference on pre-packed weights").
///
/// Each dense layer's weight matrix is packed once into the GEMM micro-kernel's column panels
/// (CGemm/dense.c) and reused by every inference call until the parameters change; the bias is
/// added, and a ReLU that follows the layer applied, while a tile of the output is in registers.
/// Training never uses the packs: it runs the ordinary forward pass on the live parameters.
final class InferencePlan {
    /// Per node: the packed weight of a dense layer, or nil (the node runs its ordinary forward).
    let packs: [OpaquePointer?]
    /// Per node: the dense layer the pack belongs to.
    let dense: [Dense?]
    /// Per node: whether the next node is a ReLU working in place on this one's output
    /// (`Graph.worksInPlace`: nothing else reads it); the dense node then writes ReLU(x · Wᵀ + b)
    /// straight into the next node's output and the ReLU node is skipped.
    let fusesReLU: [Bool]
    /// Floats held by the packs.
    let floats: Int

    /// nil when no layer could be packed (no AVX2 + FMA, OpenBLAS asked for by name, no dense layer).
    init?(graph: Graph) {
        var packs = [OpaquePointer?](repeating: nil, count: graph.nodes.count)
        var dense = [Dense?](repeating: nil, count: graph.nodes.count)
        var fuses = [Bool](repeating: false, count: graph.nodes.count)
        var floats = 0
        for (index, node) in graph.nodes.enumerated() {
            // An int8 layer (Quantization/) runs its own integer path, never the float packs.
            guard let layer = node.layer as? Dense, layer.int8 == nil, let pack = layer.packWeights() else { continue }
            packs[index] = pack
            dense[index] = layer
            floats += aeg_packed_weights_floats(pack)
            let next = index + 1
            fuses[index] = next < graph.nodes.count && graph.worksInPlace[next] && graph.nodes[next].inputs == [index]
        }
        guard packs.contains(where: { $0 != nil }) else { return nil }
        self.packs = packs
        self.dense = dense
        fusesReLU = fuses
        self.floats = floats
    }

    deinit {
        for pack in packs { aeg_packed_weights_free(pack) }
    }
}

/// A model's current inference plan, rebuilt on first use after any exclusive section of the
/// model's lock (training steps, setting parameters or scaling: every parameter write holds
/// it). Called under the read lock, so no write happens while a plan is built or used; readers
/// share one plan, and a plan replaced while a reader still holds it lives until that reader
/// lets go (ARC), so a reader never sees freed panels.
final class PackedWeights: @unchecked Sendable {
    private let mutex = Mutex()
    private var plan: InferencePlan?
    private var builtAt: (writes: UInt, kernel: Int32)?

    /// The plan for the parameters as they are after `writes` exclusive sections, for the kernel
    /// in use now (a plan is also rebuilt when `ae_set_gemm_kernel` changed the kernel).
    func plan(graph: Graph, writes: UInt) -> InferencePlan? {
        let kernel = aeg_dense_kernel()
        return mutex.withLock {
            if builtAt?.writes != writes || builtAt?.kernel != kernel {
                plan = nil          // the old packs go before the new ones are allocated
                plan = InferencePlan(graph: graph)
                builtAt = (writes, kernel)
            }
            return plan
        }
    }
}
