/// Inpainting: reconstruct samples some of whose inputs are missing, and fill the missing ones.
extension Model {
    /// Fills the missing inputs of `x` (`mask` 1 = known, 0 = missing, both `[rows, inputSize]`):
    /// missing inputs enter the network as zero in the scaled space (as masking noise trains it to
    /// expect), and `output` receives the known inputs unchanged and the reconstruction where
    /// inputs were missing, in data space. Missing entries of `x` may hold any finite value.
    public func inpaint(_ x: UnsafePointer<Float>, mask: UnsafePointer<Float>, rows: Int,
                        into output: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
        let count = rows * inputSize
        try requireReconstruction("inpaint")
        try checkFinite(x, count: count, name: "input")
        try Model.checkMask(mask, count: count)
        try reconstruct(x, rows: rows, into: output, prepare: { input, start, chunk in
            let m = mask + start * self.inputSize
            // A select, not input · mask: a huge missing value may scale to ∞, and 0 · ∞ is NaN.
            for i in 0..<(chunk * self.inputSize) where m[i] == 0 { input[i] = 0 }
        })
        for i in 0..<count where mask[i] != 0 { output[i] = x[i] }
    }

    /// `inpaint` for Swift arrays: `x` and `mask` are `[rows, inputSize]`.
    public func inpaint(_ x: Tensor, mask: Tensor) throws(AutoencoderError) -> Tensor {
        let rows = try rowCount(of: x, features: inputSize, name: "input")
        guard mask.values.count == x.values.count else {
            throw .shapeMismatch("mask: expected \(x.values.count) values (the shape of the input, \(x.shape)), got \(mask.shape)")
        }
        var output = [Float](repeating: 0, count: rows * outputSize)
        try x.values.withUnsafeBufferPointer { (input) throws(AutoencoderError) in
            try mask.values.withUnsafeBufferPointer { (known) throws(AutoencoderError) in
                try output.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
                    guard rows > 0 else { return }
                    try inpaint(input.baseAddress!, mask: known.baseAddress!, rows: rows, into: out.baseAddress!)
                }
            }
        }
        return Tensor(checkedShape: x.shape, values: output)
    }

    /// Masks hold 1 (known) or 0 (missing); `name` is the argument named in the error.
    public static func checkMask(_ mask: UnsafePointer<Float>, count: Int, name: String = "mask") throws(AutoencoderError) {
        for i in 0..<count where mask[i] != 0 && mask[i] != 1 {
            throw .invalidArgument("\(name): element \(i) is \(mask[i]); a mask holds 1 (known) or 0 (missing)")
        }
    }
}
