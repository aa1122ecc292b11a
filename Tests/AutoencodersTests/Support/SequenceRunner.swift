import XCTest
@testable import Autoencoders

/// Runs a layer with any number of inputs on a batch, the way a workspace does, with optional
/// per-sample lengths and a chosen forward mode. Each forward reseeds its generator, so training
/// mode draws the same dropout mask every time (what finite differences need).
final class SequenceRunner {
    let layer: Layer
    let batch: Int
    let parameters: [FloatBuffer]
    let gradients: [FloatBuffer]
    let inputs: [FloatBuffer]
    let gradInputs: [FloatBuffer]
    let output: FloatBuffer
    let gradOutput: FloatBuffer
    let scratch: FloatBuffer
    var lengths: [Int32]?
    var mode: ForwardMode = .inference
    var seed: UInt64 = 1
    /// Which inputs receive a gradient (nil pointers otherwise, like the model input).
    var needsInputGradient: [Bool]

    init(_ layer: Layer, batch: Int) throws {
        self.layer = layer
        self.batch = batch
        parameters = try layer.parameterDeclarations.map { try FloatBuffer(count: $0.shape.reduce(1, *)) }
        gradients = try layer.parameterDeclarations.map { try FloatBuffer(count: $0.shape.reduce(1, *)) }
        layer.bind(parameters: parameters.map(\.pointer), gradients: gradients.map(\.pointer))
        inputs = try layer.inputShapes.map { try FloatBuffer(count: batch * $0.reduce(1, *)) }
        gradInputs = try layer.inputShapes.map { try FloatBuffer(count: batch * $0.reduce(1, *)) }
        output = try FloatBuffer(count: batch * layer.outputSize)
        gradOutput = try FloatBuffer(count: batch * layer.outputSize)
        scratch = try FloatBuffer(count: layer.scratchSize(batch: batch))
        needsInputGradient = layer.inputShapes.map { _ in true }
    }

    private func withBuffers<T>(accumulate: [Bool], _ body: (LayerBuffers) -> T) -> T {
        let inputPointers = inputs.map(\.pointer)
        let gradPointers: [UnsafeMutablePointer<Float>?] = gradInputs.indices.map { needsInputGradient[$0] ? gradInputs[$0].pointer : nil }
        return inputPointers.withUnsafeBufferPointer { inputs in
            gradPointers.withUnsafeBufferPointer { gradInputs in
                accumulate.withUnsafeBufferPointer { accumulates in
                    (lengths ?? []).withUnsafeBufferPointer { lengthPointer in
                        body(LayerBuffers(inputs: inputs, output: output.pointer, gradInputs: gradInputs,
                                          accumulatesGradInputs: accumulates, gradOutput: gradOutput.pointer,
                                          scratch: scratch.pointer, links: UnsafeBufferPointer(start: nil, count: 0),
                                          batch: batch, lengths: lengths == nil ? nil : lengthPointer.baseAddress))
                    }
                }
            }
        }
    }

    @discardableResult
    func forward(_ xs: [[Float]]) -> [Float] {
        for (buffer, values) in zip(inputs, xs) { buffer.set(values) }
        var random = RandomGenerator(seed: seed)
        withBuffers(accumulate: inputs.map { _ in false }) { layer.forward($0, mode: mode, random: &random) }
        return output.array
    }

    /// Backward after a forward; returns every input's gradient.
    @discardableResult
    func backward(_ gy: [Float], accumulate: Bool = false) -> [[Float]] {
        gradOutput.set(gy)
        withBuffers(accumulate: inputs.map { _ in accumulate }) { layer.backward($0, accumulateInputGradient: accumulate) }
        return gradInputs.map(\.array)
    }

    func zeroGradients() { gradients.forEach { $0.zero() } }

    /// The first input's buffer, for callers that fill it once (a measurement).
    var input0: FloatBuffer { inputs[0] }

    /// Forward and backward on what the buffers hold, copying nothing.
    func forwardInPlace() {
        var random = RandomGenerator(seed: seed)
        withBuffers(accumulate: inputs.map { _ in false }) { layer.forward($0, mode: mode, random: &random) }
    }

    func backwardInPlace() {
        withBuffers(accumulate: inputs.map { _ in false }) { layer.backward($0, accumulateInputGradient: false) }
    }

    /// Σ y · gy in Double.
    func weightedOutput(_ xs: [[Float]], _ gy: [Float]) -> Double {
        zip(forward(xs), gy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }

    /// Finite differences of every input gradient (where needed) and every parameter gradient at random
    /// parameters (uniform ±0.8) and the given inputs.
    func checkGradients(_ name: String, inputs xs: [[Float]], seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
        let values = layer.parameterDeclarations.enumerated().map { index, declaration in
            randomValues(declaration.shape.reduce(1, *), -0.8, 0.8, seed: seed + UInt64(index))
        }
        for (buffer, v) in zip(parameters, values) { buffer.set(v) }
        let gy = randomValues(batch * layer.outputSize, -1, 1, seed: seed + 100)
        zeroGradients()
        forward(xs)
        let gxs = backward(gy)
        for (index, x) in xs.enumerated() where needsInputGradient[index] {
            GradientCheck.check("\(name) d(input \(index))", at: x, gradient: gxs[index], file: file, line: line) { value in
                var perturbed = xs
                perturbed[index] = value
                return weightedOutput(perturbed, gy)
            }
        }
        for (index, v) in values.enumerated() {
            let suffix = layer.parameterDeclarations[index].suffix
            GradientCheck.check("\(name) d\(suffix)", at: v, gradient: gradients[index].array, file: file, line: line) { value in
                parameters[index].set(value)
                defer { parameters[index].set(v) }
                return weightedOutput(xs, gy)
            }
        }
    }
}

/// PyTorch's state tensors [L·D, N, H] ↔ our per-sample rows [N, L·D·H].
func stateRows(_ values: [Float], stacks: Int, batch: Int, hidden: Int) -> [Float] {
    var rows = [Float](repeating: 0, count: values.count)
    for k in 0..<stacks {
        for n in 0..<batch {
            for j in 0..<hidden { rows[(n * stacks + k) * hidden + j] = values[(k * batch + n) * hidden + j] }
        }
    }
    return rows
}

func stateTensor(_ rows: [Float], stacks: Int, batch: Int, hidden: Int) -> [Float] {
    var values = [Float](repeating: 0, count: rows.count)
    for k in 0..<stacks {
        for n in 0..<batch {
            for j in 0..<hidden { values[(k * batch + n) * hidden + j] = rows[(n * stacks + k) * hidden + j] }
        }
    }
    return values
}
