/// Data-parallel training: a step split into its phases, so that processes can exchange the
/// gradient between them. Each of N processes holds the same model and a shard of every global
/// batch; a step is
///
///     compute (each process, on its shard) → all-reduce (the caller: a sum of the gradient
///     buffers, e.g. MPI_Allreduce) → set the sum back → apply (each process, the same update)
///
/// **Scaling.** `computeGradients(_:rows:firstRow:totalRows:)` returns the objective and holds the
/// gradient of its shard multiplied by rows / totalRows, so that their plain sums over the
/// processes are the objective and gradient of the global batch: every term that is a mean over
/// samples (the reconstruction loss, the ELBO's per-sample sum, the KL terms, the branch losses)
/// and the weight penalty (counted rows / totalRows times on each, once in the sum) combine
/// exactly. What does not: terms of the whole batch are computed on the shard (a sparsity KL on
/// the batch-mean code, batch normalisation's statistics, a mask's or an ignore label's count of
/// known values, sequence lengths' count of valid steps); they use the shard's own statistics.
///
/// **Random draws.** A variational layer draws for the shard exactly the noise one process would
/// draw for those rows of the global batch, and every process's generator ends the step in the
/// same state. Denoising corruption and dropout draw from each process's generator as if its
/// shard were the whole batch (processes with the same generator draw the same masks for
/// different samples).
extension Trainer {
    /// The floats of the gradient buffer: the trainable parameters, the first `gradientCount`
    /// floats of the parameter buffer.
    public var gradientCount: Int { model.table.trainableCount }

    /// Computes the gradient of this process's shard, `rows` raw samples that are rows
    /// `firstRow..<firstRow + rows` of a global batch of `totalRows`, without updating anything.
    /// The gradient, held by the model until `applyHeldGradients()` (any held before is
    /// replaced), and the returned objective are scaled by rows / totalRows (see the type's
    /// documentation). A failed call changes nothing and holds no gradient.
    public func computeGradients(_ x: UnsafePointer<Float>, rows: Int, firstRow: Int, totalRows: Int) throws(AutoencoderError) -> Double {
        guard !model.isAdversarial else {
            throw .unsupported("data-parallel training of an adversarial autoencoder is not supported (its three phases each update a different parameter group); train it with steps or fit")
        }
        guard rows >= 1, rows <= batchSize else {
            throw .invalidArgument("rows must be between 1 and the trainer's batch size \(batchSize), got \(rows)")
        }
        guard firstRow >= 0, totalRows >= 1, totalRows <= 1 << 40, firstRow <= totalRows - rows else {
            throw .invalidArgument("first_row \(firstRow) and n \(rows) must lie within the global batch of total_rows \(totalRows) (first_row + n <= total_rows)")
        }
        try model.checkFinite(x, count: rows * model.inputSize, name: "batch")
        try model.checkBCETargets(x, rows: rows, name: "batch")
        return try model.lock.withWriteLock { () throws(AutoencoderError) -> Double in
            // What a computation changes besides the gradient: the generator, and the
            // non-trainable state after the trainable parameters (batch norm's running
            // statistics). Kept aside to be put back on failure; a full snapshot (the weights and
            // the optimizer's state) would cost more than the step's update.
            let random = model.random
            let count = gradientCount
            let state = Array(UnsafeBufferPointer(start: model.parameters.pointer + count, count: model.parameterCount - count))
            model.gradients.pointer.update(repeating: 0, count: count)
            model.gradientHeld = false
            for (_, layer, _) in objective.variationalNodes { layer.rowShard = (firstRow, totalRows) }
            defer { for (_, layer, _) in objective.variationalNodes { layer.rowShard = nil } }
            do throws(AutoencoderError) {
                model.feed(workspace, x, rows: rows)
                workspace.setLengths(nil, rows: 0)
                prepareBatch(rows: rows, masked: false)
                let value = try computeOnWorkspace(rows: rows, masked: false)
                let share = Float(rows) / Float(totalRows)
                let gradients = model.gradients.pointer
                if share != 1 { for i in 0..<count { gradients[i] *= share } }
                model.gradientHeld = true
                return value.total * Double(rows) / Double(totalRows)
            } catch {
                model.random = random
                state.withUnsafeBufferPointer { saved in
                    if let base = saved.baseAddress { (model.parameters.pointer + count).update(from: base, count: saved.count) }
                }
                model.gradients.pointer.update(repeating: 0, count: count)
                model.gradientHeld = false
                throw error
            }
        }
    }

    /// Copies the held gradient (`gradientCount` floats) into `values`.
    public func copyGradients(to values: UnsafeMutablePointer<Float>, count: Int) throws(AutoencoderError) {
        guard count == gradientCount else {
            throw .shapeMismatch("count is \(count); the gradient buffer has \(gradientCount) floats (the trainable parameters)")
        }
        model.lock.withReadLock { values.update(from: model.gradients.pointer, count: count) }
    }

    /// Replaces the held gradient with `values` (`gradientCount` finite floats: typically the
    /// sum over the processes of what `copyGradients` gave). Refused, changing nothing, when the
    /// count differs or a value is not finite.
    public func setGradients(_ values: UnsafePointer<Float>, count: Int) throws(AutoencoderError) {
        guard count == gradientCount else {
            throw .shapeMismatch("count is \(count); the gradient buffer has \(gradientCount) floats (the trainable parameters)")
        }
        if let bad = firstNonFinite(values, count: count) {
            throw .numeric("gradients[\(bad)] is \(values[bad]); a gradient must be finite (did a process diverge?)")
        }
        model.lock.withWriteLock {
            model.gradients.pointer.update(from: values, count: count)
            model.gradientHeld = true
        }
    }

    /// The optimizer's update with the held gradient (clipped to the spec's norm first), as a
    /// step would make it: the step count, the schedule's learning rate and the optimizer's
    /// state advance. The gradient is consumed. Throws `.invalidArgument` when no gradient is
    /// held, and `.numeric` when the updated weights are not finite (the update is undone and the
    /// gradient dropped).
    public func applyHeldGradients() throws(AutoencoderError) {
        try model.lock.withWriteLock { () throws(AutoencoderError) in
            guard model.gradientHeld else {
                throw .invalidArgument("no gradient is held: compute the gradients (or set them) before applying them")
            }
            let backup = try captureBackup()
            do throws(AutoencoderError) {
                model.gradientHeld = false
                try applyGradients()
                if let bad = firstNonFinite(model.parameters.pointer, count: model.parameterCount) {
                    throw AutoencoderError.numeric("after this update parameter \(bad) is \(model.parameters.pointer[bad]) (lower the learning rate, or check the data scaling); the update was undone")
                }
                guard model.optimizerStateIsFinite else {
                    throw AutoencoderError.numeric("after this update the optimizer's state is not finite (lower the learning rate, or check the data scaling); the update was undone")
                }
            } catch {
                backup.restore(into: model)
                throw error
            }
        }
    }
}

extension Model {
    /// Copies the whole flat parameter buffer (`parameterCount` floats: the trainable parameters,
    /// then the non-trainable state such as batch normalisation's running statistics).
    public func copyParameters(to values: UnsafeMutablePointer<Float>, count: Int) throws(AutoencoderError) {
        guard count == parameterCount else {
            throw .shapeMismatch("count is \(count); the model has \(parameterCount) parameters")
        }
        lock.withReadLock { values.update(from: parameters.pointer, count: count) }
    }

    /// Replaces the whole flat parameter buffer (`parameterCount` finite floats), e.g. with rank
    /// 0's after a broadcast. Refused, changing nothing, when the count differs or a value is not
    /// finite. Drops a held data-parallel gradient.
    public func setParameters(_ values: UnsafePointer<Float>, count: Int) throws(AutoencoderError) {
        try refuseIfInt8("setting the parameters")
        guard count == parameterCount else {
            throw .shapeMismatch("count is \(count); the model has \(parameterCount) parameters")
        }
        if let bad = firstNonFinite(values, count: count) {
            throw .numeric("values[\(bad)] is \(values[bad]); parameters must be finite")
        }
        lock.withWriteLock {
            parameters.pointer.update(from: values, count: count)
            gradients.pointer.update(repeating: 0, count: table.trainableCount)
            gradientHeld = false
        }
    }

    /// A 64-bit FNV-1a hash of what processes training one model together must share: the spec
    /// (as serialized, so spacing does not matter but every key and value does) and the
    /// parameter table (names, shapes, offsets). Equal fingerprints on every process are checked
    /// before the first data-parallel step; the weights themselves are broadcast.
    public var fingerprint: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
            for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        func mix(_ value: Int) { withUnsafeBytes(of: UInt64(truncatingIfNeeded: value).littleEndian) { mix($0) } }
        mix(spec.json.serialized().utf8)
        mix(parameterCount)
        mix(table.trainableCount)
        for entry in table.entries {
            mix(entry.name.utf8)
            mix(entry.offset)
            for dimension in entry.shape { mix(dimension) }
        }
        return hash
    }
}
