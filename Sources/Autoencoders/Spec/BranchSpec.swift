/// A branch head of the spec's "branches": extra layers that read an encoder node and reconstruct
/// the input with their own loss and weight, trained together with the main decoder. A variational
/// branch on a segmentation model regularizes the shared encoder, as brain-tumour segmentation
/// networks do:
///
///     "branches": [{"name": "vae", "weight": 0.1, "loss": "mse",
///                   "layers": [{"type": "flatten", "inputs": ["enc3.relu"]},
///                              {"type": "variational", "units": 16}, ...,
///                              {"type": "reshape", "shape": [1, 28, 28]}]}]
///
/// Branches run in training only; inference computes the main output.
///
/// Myronenko's weighting (2018: L = L_dice + 0.1·L_L2 + 0.1·L_KL with the KL divided by the
/// number of voxels N) is `"weight": 0.1, "kl_weight": 0.1, "reduction": "mean"`: the branch loss
/// is then averaged over every element, as MSE, and the KL term divided by the input's elements.
public struct BranchSpec: Equatable, Sendable {
    public var name: String
    /// The branch's weight in the objective.
    public var weight: Float
    /// Its reconstruction loss against the clean input.
    public var loss: ReconstructionLoss
    public var layers: [LayerSpec]
    /// The weight of a variational layer's KL term in the branch; nil uses `weight`.
    public var klWeight: Float? = nil
    /// "mean": the loss averaged over every element and the KL divided by the input's element
    /// count (Myronenko); otherwise a variational branch's loss is summed over a sample's elements
    /// (the ELBO per sample).
    public var meanReduction: Bool = false

    static func parse(_ json: JSON, path: String, index: Int) throws(AutoencoderError) -> BranchSpec {
        let reader = try SpecReader(json, path: path)
        try reader.allowOnly(["name", "weight", "loss", "layers", "kl_weight", "reduction"])
        let name = try reader.name("name") ?? "branch\(index)"
        guard let array = try reader.array("layers", limit: ModelSpec.maxLayers), !array.isEmpty else {
            throw .invalidSpec(reader.path("layers"), "is required (a non-empty list of layers)")
        }
        var layers: [LayerSpec] = []
        for (i, element) in array.enumerated() { layers.append(try LayerSpec.parse(element, path: "\(path).layers[\(i)]")) }
        var branch = BranchSpec(name: name, weight: try reader.float("weight", default: 1, minimum: 0),
                                loss: try ModelSpec.parseLoss(reader.object["loss"], path: reader.path("loss")), layers: layers)
        branch.klWeight = reader.has("kl_weight") ? try reader.float("kl_weight", minimum: 0) : nil
        branch.meanReduction = reader.has("reduction") ? try reader.choice("reduction", ["per_sample", "mean"]) == "mean" : false
        return branch
    }
}
