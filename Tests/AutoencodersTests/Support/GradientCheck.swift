import XCTest
@testable import Autoencoders

/// Finite-difference checks of analytic gradients, robust in Float32.
///
/// Rather than perturbing one coordinate at a time (where Float32 rounding of f swamps a tiny
/// difference), it compares directional derivatives: for a few random directions d it evaluates
/// f(x + d) and f(x − d) with the forward pass in Float32 and the scalar f summed in Double, and
/// compares f(x + d) − f(x − d) with g · (x₊ − x₋), where x₊ and x₋ are the perturbed points as
/// actually rounded to Float (so the step's own rounding cancels out). Each component of d is
/// ±step·max(1, |xᵢ|). The error is measured against Σ|gᵢ·Δᵢ|, the size the difference would have
/// if every term pushed the same way: a wrong sign or a wrong factor in a few components shows up
/// far above the tolerance, while the O(step²) truncation error stays well below it.
///
/// The caller picks points away from kinks (ReLU at 0, L1 at 0, Huber at ±δ) so that no
/// perturbation crosses one.
enum GradientCheck {
    /// Checks the analytic gradient `gradient` of the scalar function `f` at `x`.
    static func check(_ name: String, at x: [Float], gradient: [Float], directions: Int = 6, step: Float = 1e-2,
                      tolerance: Double = 2e-3, seed: UInt64 = 7,
                      file: StaticString = #filePath, line: UInt = #line, _ f: ([Float]) -> Double) {
        guard x.count == gradient.count else {
            XCTFail("\(name): \(x.count) inputs but \(gradient.count) gradient values", file: file, line: line)
            return
        }
        var random = RandomGenerator(seed: seed)
        for direction in 0..<directions {
            var plus = x, minus = x
            for i in x.indices {
                let d = (random.uniform() < 0.5 ? -step : step) * max(1, abs(x[i]))
                plus[i] = x[i] + d
                minus[i] = x[i] - d
            }
            let fPlus = f(plus), fMinus = f(minus)
            let numeric = fPlus - fMinus
            var analytic = 0.0, scale = 0.0
            for i in x.indices {
                let term = Double(gradient[i]) * (Double(plus[i]) - Double(minus[i]))
                analytic += term
                scale += abs(term)
            }
            // Float32 noise of f itself, which no gradient can explain.
            let noise = 1e-6 * (abs(fPlus) + abs(fMinus))
            let error = abs(numeric - analytic)
            if !(error <= tolerance * scale + noise) {
                XCTFail("\(name): direction \(direction): finite difference \(numeric), analytic \(analytic) "
                        + "(|error| \(error) = \(error / max(scale, 1e-300)) of Σ|gᵢΔᵢ| \(scale))", file: file, line: line)
                return
            }
        }
    }
}

/// The buffers to run one single-input layer on a batch the way a model's workspace does:
/// input [batch, inputSize], output and gradOutput [batch, outputSize], gradInput [batch, inputSize],
/// and one parameter and one gradient buffer per declaration, bound to the layer. `links` are the
/// scratch buffers of the nodes it is linked to (a max-unpooling layer's pooling layer).
final class LayerRunner {
    let layer: Layer
    let batch: Int
    let parameters: [FloatBuffer]
    let gradients: [FloatBuffer]
    let input: FloatBuffer
    let output: FloatBuffer
    let gradOutput: FloatBuffer
    let gradInput: FloatBuffer
    let scratch: FloatBuffer
    let links: [FloatBuffer]
    private let inputPointer: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private let gradInputPointer: UnsafeMutablePointer<UnsafeMutablePointer<Float>?>
    private let accumulatePointer: UnsafeMutablePointer<Bool>
    private let linkPointers: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    private var random = RandomGenerator(seed: 1)

    init(_ layer: Layer, batch: Int, links: [FloatBuffer] = []) throws {
        self.layer = layer
        self.batch = batch
        parameters = try layer.parameterDeclarations.map { try FloatBuffer(count: $0.shape.reduce(1, *)) }
        gradients = try layer.parameterDeclarations.map { try FloatBuffer(count: $0.shape.reduce(1, *)) }
        layer.bind(parameters: parameters.map(\.pointer), gradients: gradients.map(\.pointer))
        input = try FloatBuffer(count: batch * layer.inputSize)
        output = try FloatBuffer(count: batch * layer.outputSize)
        gradOutput = try FloatBuffer(count: batch * layer.outputSize)
        gradInput = try FloatBuffer(count: batch * layer.inputSize)
        scratch = try FloatBuffer(count: layer.scratchSize(batch: batch))
        inputPointer = .allocate(capacity: 1)
        inputPointer.initialize(to: input.pointer)
        gradInputPointer = .allocate(capacity: 1)
        gradInputPointer.initialize(to: gradInput.pointer)
        accumulatePointer = .allocate(capacity: 1)
        accumulatePointer.initialize(to: false)
        self.links = links
        linkPointers = .allocate(capacity: max(links.count, 1))
        for (i, link) in links.enumerated() { (linkPointers + i).initialize(to: link.pointer) }
    }

    deinit {
        inputPointer.deallocate()
        gradInputPointer.deallocate()
        accumulatePointer.deallocate()
        linkPointers.deallocate()
    }

    private var buffers: LayerBuffers {
        LayerBuffers(inputs: UnsafeBufferPointer(start: inputPointer, count: 1), output: output.pointer,
                     gradInputs: UnsafeBufferPointer(start: gradInputPointer, count: 1),
                     accumulatesGradInputs: UnsafeBufferPointer(start: accumulatePointer, count: 1),
                     gradOutput: gradOutput.pointer, scratch: scratch.pointer,
                     links: UnsafeBufferPointer(start: linkPointers, count: links.count), batch: batch)
    }

    /// Sets parameter `index` (in declaration order).
    func setParameter(_ index: Int, _ values: [Float]) {
        parameters[index].set(values)
    }

    /// y = layer(x) for the whole batch.
    @discardableResult
    func forward(_ x: [Float]) -> [Float] {
        precondition(x.count == input.count)
        input.set(x)
        layer.forward(buffers, mode: .inference, random: &random)
        return output.array
    }

    /// Runs backward with upstream gradient `gy` after a forward pass; returns gradInput. Parameter
    /// gradients accumulate into `gradients` (zero them with `zeroGradients` between checks).
    @discardableResult
    func backward(_ gy: [Float], accumulate: Bool = false) -> [Float] {
        precondition(gy.count == gradOutput.count)
        gradOutput.set(gy)
        accumulatePointer.pointee = accumulate
        layer.backward(buffers, accumulateInputGradient: accumulate)
        return gradInput.array
    }

    /// Runs backward as a model runs it for a node reading the model input: gradInput is nil, and
    /// the layer must skip the product (gradInput keeps its contents).
    func backwardWithoutInputGradient(_ gy: [Float]) {
        precondition(gy.count == gradOutput.count)
        gradOutput.set(gy)
        gradInputPointer.pointee = nil
        layer.backward(buffers, accumulateInputGradient: false)
        gradInputPointer.pointee = gradInput.pointer
    }

    func zeroGradients() { gradients.forEach { $0.zero() } }

    /// Σ gy·layer(x) in Double: the scalar whose gradient backward(gy) computes.
    func weightedOutput(_ x: [Float], _ gy: [Float]) -> Double {
        zip(forward(x), gy).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    }
}

extension FloatBuffer {
    /// Overwrites every value; `values` must hold exactly `count`.
    func set(_ values: [Float]) {
        precondition(values.count == count)
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
