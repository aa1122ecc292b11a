extension ModelSpec {
    /// The spec's "optimizer" object: the optimizer itself (`parseOptimizer`) and the option every
    /// optimizer shares, `"clip_grad_norm"` (a positive number: clip the gradient to that global
    /// 2-norm before each update, PyTorch's clip_grad_norm_; absent or null: no clipping).
    static func parseOptimizerEntry(_ reader: SpecReader?) throws(AutoencoderError) -> (OptimizerConfiguration, clipGradNorm: Float?) {
        guard let reader else { return (.defaultAdam, nil) }
        let clip = reader.has("clip_grad_norm") ? try reader.float("clip_grad_norm", above: 0) : nil
        var rest = reader.object
        rest["clip_grad_norm"] = nil
        return (try parseOptimizer(try SpecReader(.object(rest), path: reader.path)), clip)
    }
}
