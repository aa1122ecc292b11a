// The objects behind the opaque handles. An `ae_model *` is a retained ModelBox
// (Unmanaged.passRetained(box).toOpaque()), released by ae_model_free; an `ae_trainer *` is a
// retained TrainerBox, which holds its model's box strongly.

import Autoencoders
import Glibc

/// A model and the C strings handed out for it, which live as long as the model.
final class ModelBox {
    let model: Model
    /// The spec as JSON text (ae_model_spec).
    let specJSON: UnsafeMutablePointer<CChar>
    /// The parameter tensors' names, in table order (ae_model_tensor_info).
    let tensorNames: [UnsafeMutablePointer<CChar>]
    /// Serialises the calls that change the model or read its training state (see WriterLock).
    let writer = WriterLock()

    init(_ model: Model) throws(AutoencoderError) {
        var strings: [UnsafeMutablePointer<CChar>] = []
        do throws(AutoencoderError) {
            strings.append(try duplicate(model.spec.json.serialized()))
            for entry in model.parameterEntries { strings.append(try duplicate(entry.name)) }
        } catch {
            for string in strings { free(string) }
            throw error
        }
        self.model = model
        specJSON = strings[0]
        tensorNames = Array(strings.dropFirst())
    }

    deinit {
        free(specJSON)
        for name in tensorNames { free(name) }
    }

    /// A new retained handle for C.
    func retainedHandle() -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(self).toOpaque())
    }
}

/// A step-wise trainer and the model box it trains (kept alive by this reference).
final class TrainerBox {
    let owner: ModelBox
    let trainer: Trainer
    /// A segmentation trainer's labels of one batch as float targets, allocated once, so a
    /// labelled step allocates nothing.
    let labelBuffer: FloatBuffer?
    /// A token model's batch of ids as the core's floats, allocated once like labelBuffer.
    let tokenBuffer: FloatBuffer?

    init(owner: ModelBox, trainer: Trainer) throws(AutoencoderError) {
        self.owner = owner
        self.trainer = trainer
        let model = trainer.model
        labelBuffer = model.isSegmentation || model.takesComponentLabels ? try FloatBuffer(count: trainer.batchSize * model.labelSize) : nil
        tokenBuffer = model.isTokenModel ? try FloatBuffer(count: trainer.batchSize * model.inputSize) : nil
    }

    func retainedHandle() -> OpaquePointer {
        OpaquePointer(Unmanaged.passRetained(self).toOpaque())
    }
}

/// One writer at a time per model, for the whole of a call.
///
/// The core's read-write lock guards each batch, but a training run (or a step, a parameter
/// change, a save) must not interleave with another one on the same model: they share the
/// optimizer, its state and the epoch counter. Calls that change the model take this lock with
/// `.reject` re-entry: another thread waits, while the training thread itself, calling back in
/// from its progress callback, gets an error instead of a deadlock. Calls that only read the
/// training state take it with `.allow`: they wait for other threads' training to finish, and run
/// directly when made from the progress callback (the training loop is then between batches).
/// Inference does not take it at all.
final class WriterLock {
    enum Reentry { case allow, reject }

    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let released: UnsafeMutablePointer<pthread_cond_t>
    /// The thread inside a locked call, if any (guarded by `mutex`).
    private var owner: pthread_t?

    init() {
        mutex = .allocate(capacity: 1)
        released = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(released, nil)
    }

    deinit {
        pthread_cond_destroy(released)
        pthread_mutex_destroy(mutex)
        released.deallocate()
        mutex.deallocate()
    }

    func run<T>(_ reentry: Reentry, _ body: () throws(AutoencoderError) -> T) throws(AutoencoderError) -> T {
        let me = pthread_self()
        pthread_mutex_lock(mutex)
        if let owner, pthread_equal(owner, me) != 0 {
            pthread_mutex_unlock(mutex)
            guard reentry == .allow else {
                throw .invalidArgument("the model is being trained on this thread (a call from a progress callback?); a callback may run inference and queries, not change the model")
            }
            return try body()
        }
        while owner != nil { pthread_cond_wait(released, mutex) }
        owner = me
        pthread_mutex_unlock(mutex)
        defer {
            pthread_mutex_lock(mutex)
            owner = nil
            pthread_cond_broadcast(released)
            pthread_mutex_unlock(mutex)
        }
        return try body()
    }
}
