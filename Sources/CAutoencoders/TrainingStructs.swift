// The C structs of training (ae_train_options, ae_progress, ae_train_report), read and written
// field by field at the offsets C gives them. Their layouts are computed here with C's rules
// rather than mirrored by Swift structs, whose layout Swift does not promise; Tests/c checks the
// resulting offsets against the header's.
//
// Versioning: each struct starts with its size. A caller built against an older header passes
// a smaller struct; one built against a newer header a larger one. The library reads and writes
// only the fields it knows and requires at least the fields of the version that introduced the
// struct (0.1 for all three).

import Autoencoders

/// Field offsets of a C struct, computed as a C compiler lays it out: each field at the next
/// multiple of its alignment, the size rounded up to the largest alignment.
struct CStructLayout {
    private var end = 0
    private var alignment = 1

    mutating func field<T>(_ type: T.Type) -> Int {
        let fieldAlignment = MemoryLayout<T>.alignment
        let offset = (end + fieldAlignment - 1) / fieldAlignment * fieldAlignment
        end = offset + MemoryLayout<T>.size
        alignment = max(alignment, fieldAlignment)
        return offset
    }

    /// sizeof the struct so far.
    var size: Int { (end + alignment - 1) / alignment * alignment }
}

// C types as this file spells them.
typealias CSize = UInt                      // size_t
typealias CInt = Int32                      // int, and the enums
typealias CPointer = UnsafeRawPointer?      // any data or function pointer

/// ae_train_options: version 0.1, then the sequence fields (lengths) appended.
struct TrainOptionsLayout {
    let structSize, epochs, batchSize, shuffle, validationSplit, validationData, validationSamples,
        validationCount, patience, minDelta, restoreBestWeights, reportBatches, progress, userData, mask, maskCount: Int
    let lengths, lengthsCount, validationLengths, validationLengthsCount: Int
    /// sizeof(ae_train_options) in 0.1: the least struct_size accepted.
    let size: Int
    /// sizeof(ae_train_options) with the sequence fields: a smaller struct has no lengths.
    let sequenceSize: Int

    static let current = TrainOptionsLayout()

    private init() {
        var c = CStructLayout()
        structSize = c.field(CSize.self)
        epochs = c.field(CSize.self)
        batchSize = c.field(CSize.self)
        shuffle = c.field(CInt.self)
        validationSplit = c.field(Float.self)
        validationData = c.field(CPointer.self)
        validationSamples = c.field(CSize.self)
        validationCount = c.field(CSize.self)
        patience = c.field(CSize.self)
        minDelta = c.field(Float.self)
        restoreBestWeights = c.field(CInt.self)
        reportBatches = c.field(CInt.self)
        progress = c.field(CPointer.self)
        userData = c.field(CPointer.self)
        mask = c.field(CPointer.self)
        maskCount = c.field(CSize.self)
        size = c.size
        lengths = c.field(CPointer.self)
        lengthsCount = c.field(CSize.self)
        validationLengths = c.field(CPointer.self)
        validationLengthsCount = c.field(CSize.self)
        sequenceSize = c.size
    }

    /// Whether a caller's struct_size is one the library knows how to read: the 0.1 struct, or
    /// one with the sequence fields (a newer header's may be larger still). A size between the
    /// two would cut a field in half.
    func accepts(_ structSize: UInt) -> Bool {
        structSize == UInt(size) || (structSize >= UInt(sequenceSize) && structSize <= 1 << 20)
    }
}

/// ae_progress, version 0.1 (filled by the library: struct_size is this size).
struct ProgressLayout {
    let structSize, epoch, epochs, batch, batches, trainLoss, validationLoss, learningRate, elapsedSeconds, isEpochEnd,
        reconstructionLoss, klDivergence, discriminatorLoss, generatorLoss: Int
    let size: Int

    static let current = ProgressLayout()

    private init() {
        var c = CStructLayout()
        structSize = c.field(CSize.self)
        epoch = c.field(CSize.self)
        epochs = c.field(CSize.self)
        batch = c.field(CSize.self)
        batches = c.field(CSize.self)
        trainLoss = c.field(Double.self)
        validationLoss = c.field(Double.self)
        learningRate = c.field(Double.self)
        elapsedSeconds = c.field(Double.self)
        isEpochEnd = c.field(CInt.self)
        reconstructionLoss = c.field(Double.self)
        klDivergence = c.field(Double.self)
        discriminatorLoss = c.field(Double.self)
        generatorLoss = c.field(Double.self)
        size = c.size
    }
}

/// ae_train_report, version 0.1.
struct TrainReportLayout {
    let structSize, epochsRun, stopReason, finalTrainLoss, finalValidationLoss, bestEpoch, bestLoss, seconds: Int
    let size: Int

    static let current = TrainReportLayout()

    private init() {
        var c = CStructLayout()
        structSize = c.field(CSize.self)
        epochsRun = c.field(CSize.self)
        stopReason = c.field(CInt.self)
        finalTrainLoss = c.field(Double.self)
        finalValidationLoss = c.field(Double.self)
        bestEpoch = c.field(CSize.self)
        bestLoss = c.field(Double.self)
        seconds = c.field(Double.self)
        size = c.size
    }
}

/// The C progress callback: int (*)(const ae_progress *, void *).
typealias ProgressFunction = @convention(c) (UnsafeRawPointer?, UnsafeMutableRawPointer?) -> CInt

/// ae_train_options as read from the caller, before its values are checked.
struct TrainOptionsFields {
    var epochs: CSize = 10
    var batchSize: CSize = 32
    var shuffle: CInt = 1
    var validationSplit: Float = 0
    var validationData: UnsafePointer<Float>? = nil
    var validationSamples: CSize = 0
    var validationCount: CSize = 0
    var patience: CSize = 0
    var minDelta: Float = 0
    var restoreBestWeights: CInt = 1
    var reportBatches: CInt = 0
    var progress: ProgressFunction? = nil
    var userData: UnsafeMutableRawPointer? = nil
    var mask: UnsafePointer<Float>? = nil
    var maskCount: CSize = 0
    var lengths: UnsafePointer<Int32>? = nil
    var lengthsCount: CSize = 0
    var validationLengths: UnsafePointer<Int32>? = nil
    var validationLengthsCount: CSize = 0

    /// The defaults of ae_train_options_init.
    static let defaults = TrainOptionsFields()

    /// Reads the options struct at `raw` after checking its struct_size.
    init(reading raw: UnsafeRawPointer) throws(AutoencoderError) {
        let layout = TrainOptionsLayout.current
        let structSize = raw.loadUnaligned(fromByteOffset: layout.structSize, as: CSize.self)
        guard layout.accepts(structSize) else {
            throw .invalidArgument("options->struct_size is \(structSize); expected sizeof(ae_train_options): \(layout.size) (version 0.1) or at least \(layout.sequenceSize) (with lengths): initialise options with ae_train_options_init")
        }
        epochs = raw.loadUnaligned(fromByteOffset: layout.epochs, as: CSize.self)
        batchSize = raw.loadUnaligned(fromByteOffset: layout.batchSize, as: CSize.self)
        shuffle = raw.loadUnaligned(fromByteOffset: layout.shuffle, as: CInt.self)
        validationSplit = raw.loadUnaligned(fromByteOffset: layout.validationSplit, as: Float.self)
        validationData = raw.loadUnaligned(fromByteOffset: layout.validationData, as: UnsafeRawPointer?.self)?
            .assumingMemoryBound(to: Float.self)
        validationSamples = raw.loadUnaligned(fromByteOffset: layout.validationSamples, as: CSize.self)
        validationCount = raw.loadUnaligned(fromByteOffset: layout.validationCount, as: CSize.self)
        patience = raw.loadUnaligned(fromByteOffset: layout.patience, as: CSize.self)
        minDelta = raw.loadUnaligned(fromByteOffset: layout.minDelta, as: Float.self)
        restoreBestWeights = raw.loadUnaligned(fromByteOffset: layout.restoreBestWeights, as: CInt.self)
        reportBatches = raw.loadUnaligned(fromByteOffset: layout.reportBatches, as: CInt.self)
        progress = raw.loadUnaligned(fromByteOffset: layout.progress, as: UnsafeRawPointer?.self)
            .map { unsafeBitCast($0, to: ProgressFunction.self) }
        userData = raw.loadUnaligned(fromByteOffset: layout.userData, as: UnsafeMutableRawPointer?.self)
        mask = raw.loadUnaligned(fromByteOffset: layout.mask, as: UnsafeRawPointer?.self)?.assumingMemoryBound(to: Float.self)
        maskCount = raw.loadUnaligned(fromByteOffset: layout.maskCount, as: CSize.self)
        // The sequence fields, when the caller's struct has them (an older caller's has not).
        if structSize >= UInt(layout.sequenceSize) {
            lengths = raw.loadUnaligned(fromByteOffset: layout.lengths, as: UnsafeRawPointer?.self)?.assumingMemoryBound(to: Int32.self)
            lengthsCount = raw.loadUnaligned(fromByteOffset: layout.lengthsCount, as: CSize.self)
            validationLengths = raw.loadUnaligned(fromByteOffset: layout.validationLengths, as: UnsafeRawPointer?.self)?
                .assumingMemoryBound(to: Int32.self)
            validationLengthsCount = raw.loadUnaligned(fromByteOffset: layout.validationLengthsCount, as: CSize.self)
        }
    }

    private init() {}

    /// Writes these values, with struct_size, to the options struct at `raw`.
    func write(to raw: UnsafeMutableRawPointer) {
        let layout = TrainOptionsLayout.current
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: layout.size)
        raw.storeBytes(of: CSize(layout.size), toByteOffset: layout.structSize, as: CSize.self)
        raw.storeBytes(of: epochs, toByteOffset: layout.epochs, as: CSize.self)
        raw.storeBytes(of: batchSize, toByteOffset: layout.batchSize, as: CSize.self)
        raw.storeBytes(of: shuffle, toByteOffset: layout.shuffle, as: CInt.self)
        raw.storeBytes(of: validationSplit, toByteOffset: layout.validationSplit, as: Float.self)
        raw.storeBytes(of: UnsafeRawPointer(validationData), toByteOffset: layout.validationData, as: UnsafeRawPointer?.self)
        raw.storeBytes(of: validationSamples, toByteOffset: layout.validationSamples, as: CSize.self)
        raw.storeBytes(of: validationCount, toByteOffset: layout.validationCount, as: CSize.self)
        raw.storeBytes(of: patience, toByteOffset: layout.patience, as: CSize.self)
        raw.storeBytes(of: minDelta, toByteOffset: layout.minDelta, as: Float.self)
        raw.storeBytes(of: restoreBestWeights, toByteOffset: layout.restoreBestWeights, as: CInt.self)
        raw.storeBytes(of: reportBatches, toByteOffset: layout.reportBatches, as: CInt.self)
        raw.storeBytes(of: progress.map { unsafeBitCast($0, to: UnsafeRawPointer.self) }, toByteOffset: layout.progress,
                       as: UnsafeRawPointer?.self)
        raw.storeBytes(of: UnsafeRawPointer(userData), toByteOffset: layout.userData, as: UnsafeRawPointer?.self)
        raw.storeBytes(of: UnsafeRawPointer(mask), toByteOffset: layout.mask, as: UnsafeRawPointer?.self)
        raw.storeBytes(of: maskCount, toByteOffset: layout.maskCount, as: CSize.self)
    }
}

/// An ae_progress the library fills and hands to the callback; allocated once per training run.
final class ProgressRecord {
    let raw: UnsafeMutableRawPointer

    init() {
        let layout = ProgressLayout.current
        raw = .allocate(byteCount: layout.size, alignment: 16)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: layout.size)
        raw.storeBytes(of: CSize(layout.size), toByteOffset: layout.structSize, as: CSize.self)
    }

    deinit { raw.deallocate() }

    func fill(_ progress: TrainingProgress) {
        let layout = ProgressLayout.current
        raw.storeBytes(of: CSize(max(progress.epoch, 0)), toByteOffset: layout.epoch, as: CSize.self)
        raw.storeBytes(of: CSize(max(progress.epochs, 0)), toByteOffset: layout.epochs, as: CSize.self)
        raw.storeBytes(of: CSize(max(progress.batch, 0)), toByteOffset: layout.batch, as: CSize.self)
        raw.storeBytes(of: CSize(max(progress.batches, 0)), toByteOffset: layout.batches, as: CSize.self)
        raw.storeBytes(of: progress.trainLoss, toByteOffset: layout.trainLoss, as: Double.self)
        raw.storeBytes(of: progress.validationLoss ?? .nan, toByteOffset: layout.validationLoss, as: Double.self)
        raw.storeBytes(of: Double(progress.learningRate), toByteOffset: layout.learningRate, as: Double.self)
        raw.storeBytes(of: progress.elapsed, toByteOffset: layout.elapsedSeconds, as: Double.self)
        raw.storeBytes(of: progress.isEpochEnd ? 1 : 0, toByteOffset: layout.isEpochEnd, as: CInt.self)
        raw.storeBytes(of: progress.reconstructionLoss, toByteOffset: layout.reconstructionLoss, as: Double.self)
        raw.storeBytes(of: progress.klDivergence ?? .nan, toByteOffset: layout.klDivergence, as: Double.self)
        raw.storeBytes(of: progress.discriminatorLoss ?? .nan, toByteOffset: layout.discriminatorLoss, as: Double.self)
        raw.storeBytes(of: progress.generatorLoss ?? .nan, toByteOffset: layout.generatorLoss, as: Double.self)
    }
}

/// Checks an ae_train_report's struct_size (before training, so a bad one costs nothing).
func checkReportSize(_ raw: UnsafeMutableRawPointer) throws(AutoencoderError) {
    let layout = TrainReportLayout.current
    let structSize = raw.loadUnaligned(fromByteOffset: layout.structSize, as: CSize.self)
    guard structSize >= UInt(layout.size) else {
        throw .invalidArgument("report->struct_size is \(structSize); expected at least \(layout.size): set it to sizeof(ae_train_report)")
    }
}

/// Writes the 0.1 fields of an ae_train_report (a newer caller's extra fields are left alone).
func writeReport(_ report: TrainingReport, to raw: UnsafeMutableRawPointer) {
    let layout = TrainReportLayout.current
    let ran = report.epochsRun > 0
    raw.storeBytes(of: CSize(max(report.epochsRun, 0)), toByteOffset: layout.epochsRun, as: CSize.self)
    raw.storeBytes(of: report.stopReason.rawValue, toByteOffset: layout.stopReason, as: CInt.self)
    raw.storeBytes(of: report.trainLoss.last ?? .nan, toByteOffset: layout.finalTrainLoss, as: Double.self)
    raw.storeBytes(of: report.validationLoss.last ?? .nan, toByteOffset: layout.finalValidationLoss, as: Double.self)
    raw.storeBytes(of: CSize(max(report.bestEpoch, 0)), toByteOffset: layout.bestEpoch, as: CSize.self)
    raw.storeBytes(of: ran ? report.bestLoss : .nan, toByteOffset: layout.bestLoss, as: Double.self)
    raw.storeBytes(of: report.seconds, toByteOffset: layout.seconds, as: Double.self)
}
