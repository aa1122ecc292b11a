// Training: options, ae_model_train(_labels) with its progress callback, and ae_model_evaluate(_labels).

import Autoencoders

@_cdecl("ae_train_options_init")
public func ae_train_options_init(_ options: UnsafeMutableRawPointer?, _ structSize: UInt) -> Int32 {
    guarded("ae_train_options_init") { () throws(AutoencoderError) in
        let options = try required(options, "options", "a pointer to an ae_train_options")
        let layout = TrainOptionsLayout.current
        guard layout.accepts(structSize) else {
            throw .invalidArgument("struct_size is \(structSize); expected sizeof(ae_train_options): \(layout.size) (version 0.1) or \(layout.sequenceSize) (with lengths) up to 1 MiB")
        }
        options.initializeMemory(as: UInt8.self, repeating: 0, count: Int(structSize))
        TrainOptionsFields.defaults.write(to: options)
        options.storeBytes(of: CSize(structSize), toByteOffset: TrainOptionsLayout.current.structSize, as: CSize.self)
    }
}

@_cdecl("ae_model_train")
public func ae_model_train(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                           _ optionsPointer: UnsafeRawPointer?, _ reportPointer: UnsafeMutableRawPointer?) -> Int32 {
    guarded("ae_model_train") { () throws(AutoencoderError) in
        try requireFloatInput(try modelBox(handle).model, tokenCall: "ae_model_train_tokens")
        try train(handle, data, n, count, labels: nil, optionsPointer, reportPointer)
    }
}

@_cdecl("ae_model_train_labels")
public func ae_model_train_labels(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                  _ labels: UnsafePointer<Int32>?, _ labelsCount: UInt,
                                  _ optionsPointer: UnsafeRawPointer?, _ reportPointer: UnsafeMutableRawPointer?) -> Int32 {
    guarded("ae_model_train_labels") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let labels = try required(labels, "labels", "n * label size int32 class indices")
        try refuseUnsupervisedLabels(model)
        let rows = try asInt(n, "n")
        _ = try expectCount(labelsCount, "labels_count", rows: ("n", rows), perRow: ("label size", model.labelSize))
        let values = try labelsAsFloats(labels, count: rows * model.labelSize, model: model)
        try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) in
            try train(handle, data, n, count, labels: pointer.baseAddress, optionsPointer, reportPointer)
        }
    }
}

/// An adversarial autoencoder whose prior is not supervised takes no labels: said before the
/// count is checked against a label size that would be the input size.
func refuseUnsupervisedLabels(_ model: Model) throws(AutoencoderError) {
    if model.isAdversarial && !model.takesComponentLabels {
        throw .invalidArgument("labels: this adversarial autoencoder's prior is not supervised (no \"supervised\": true mixture), so it trains without labels; use ae_model_train or ae_trainer_step")
    }
}

/// The labels of the C API (int32) as the core's float targets, checked as integers first: a
/// class index is exact as a float, but a large label next to a large ignore label would not be.
func labelsAsFloats(_ labels: UnsafePointer<Int32>, count: Int, model: Model) throws(AutoencoderError) -> [Float] {
    guard canAllocate(count * MemoryLayout<Float>.stride) else {
        throw .init(.outOfMemory, "cannot allocate \(count) labels")
    }
    var values = [Float](repeating: 0, count: count)
    try values.withUnsafeMutableBufferPointer { (buffer) throws(AutoencoderError) in
        if let base = buffer.baseAddress { try convertLabels(labels, count: count, model: model, into: base) }
    }
    return values
}

/// Writes `count` int32 labels as the core's float targets into `values`, checking each exactly.
func convertLabels(_ labels: UnsafePointer<Int32>, count: Int, model: Model,
                   into values: UnsafeMutablePointer<Float>) throws(AutoencoderError) {
    if model.takesComponentLabels {
        // An adversarial autoencoder's supervised prior: one component per sample.
        let components = model.priorComponents
        for i in 0..<count {
            guard labels[i] >= 0, Int(labels[i]) < components else {
                throw .invalidArgument("labels[\(i)] = \(labels[i]) is not a component of the prior in 0..<\(components)")
            }
            values[i] = Float(labels[i])
        }
        return
    }
    guard case let .segmentation(ignoreLabel) = model.spec.task else {
        throw .invalidArgument("labels: this model reconstructs its input and takes no labels")
    }
    let classes = model.classCount, positions = model.labelSize
    for i in 0..<count {
        let label = Int(labels[i])
        if label == ignoreLabel {
            values[i] = Float(ignoreLabel)  // the core ignores it (labels are checked exactly here)
        } else if label >= 0 && label < classes {
            values[i] = Float(label)
        } else {
            // The position as [sample, spatial indices...], like the core's messages.
            var index: [Int] = [], rest = i % positions
            for dimension in model.outputShape.dropFirst().reversed() {
                index.append(rest % dimension)
                rest /= dimension
            }
            let position = ([i / positions] + index.reversed()).map(String.init).joined(separator: ", ")
            throw .invalidArgument("labels[\(position)] = \(label) is not a class in 0..<\(classes) nor the ignore label \(ignoreLabel)")
        }
    }
}

/// ae_model_train, ae_model_train_labels and ae_model_train_tokens (whose ids arrive here as
/// floats, with `tokenLengths` from its arguments).
func train(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
           labels: UnsafePointer<Float>?, _ optionsPointer: UnsafeRawPointer?,
           _ reportPointer: UnsafeMutableRawPointer?, tokenLengths: UnsafePointer<Int32>? = nil) throws(AutoencoderError) {
    let box = try modelBox(handle)
    let model = box.model
    let data = try required(data, "data", "n * input size floats")
    let rows = try asInt(n, "n")
    guard rows >= 1 else { throw .invalidArgument("n is 0; training needs at least one sample") }
    try expectSequenceCount(count, "count", rows: rows, model: model)
    let fields = try optionsPointer.map { (raw) throws(AutoencoderError) in try TrainOptionsFields(reading: raw) }
        ?? .defaults
    let (options, validation) = try trainingOptions(fields, inputSize: model.inputSize)
    if model.isTokenModel {
        guard fields.lengths == nil && fields.lengthsCount == 0 else {
            throw .invalidArgument("options->lengths must be NULL for ae_model_train_tokens: pass the lengths as its arguments")
        }
        guard validation == nil else {
            throw .invalidArgument("options->validation_data must be NULL for a token model: use options->validation_split")
        }
    }
    let lengths = try model.isTokenModel ? tokenLengths
        : checkedLengths(fields.lengths, fields.lengthsCount, rows: rows, model: model, name: "options->lengths",
                         countName: "options->lengths_count", rowsName: "n")
    let validationLengths = try checkedLengths(fields.validationLengths, fields.validationLengthsCount, rows: validation?.rows ?? 0,
                                               model: model, name: "options->validation_lengths",
                                               countName: "options->validation_lengths_count", rowsName: "options->validation_samples")
    if validationLengths != nil && validation == nil {
        throw .invalidArgument("options->validation_lengths is set but validation_data is NULL; the lengths of a validation_split come from options->lengths")
    }
    if let reportPointer { try checkReportSize(reportPointer) }
    var mask: UnsafePointer<Float>? = nil
    if let given = fields.mask {
        guard fields.maskCount == count else {
            throw .shapeMismatch("options->mask_count is \(fields.maskCount) but the data has count = \(count) elements; the mask has one value per input")
        }
        try Model.checkMask(given, count: rows * model.inputSize, name: "options->mask")
        mask = given
    } else if fields.maskCount != 0 {
        throw .invalidArgument("options->mask is NULL but mask_count is \(fields.maskCount); set it to 0, or pass the mask")
    }

    try runTraining(box, fields, reportPointer) { (progress) throws(AutoencoderError) in
        try model.fit(data, rows: rows, mask: mask, labels: labels, validation: validation?.data, validationRows: validation?.rows ?? 0,
                      lengths: lengths, validationLengths: validationLengths, options: options, progress: progress)
    }
}

/// Runs a training call as the model's one writer, with the caller's progress callback, and
/// writes its report.
func runTraining(_ box: ModelBox, _ fields: TrainOptionsFields, _ reportPointer: UnsafeMutableRawPointer?,
                 _ fit: (((TrainingProgress) -> Bool)?) throws(AutoencoderError) -> TrainingReport) throws(AutoencoderError) {
    let record = ProgressRecord()
    let progress: ((TrainingProgress) -> Bool)? = fields.progress.map { function in
        let userData = fields.userData
        return { state in
            record.fill(state)
            return function(UnsafeRawPointer(record.raw), userData) == 0
        }
    }
    let report = try box.writer.run(.reject) { () throws(AutoencoderError) in try fit(progress) }
    if let reportPointer { writeReport(report, to: reportPointer) }
}

/// Checks the values of the options (naming each field as C sees it) and converts them.
func trainingOptions(_ fields: TrainOptionsFields, inputSize: Int) throws(AutoencoderError)
    -> (TrainingOptions, validation: (data: UnsafePointer<Float>, rows: Int)?) {
    var options = TrainingOptions()
    guard fields.epochs <= 1_000_000 else {
        throw .invalidArgument("options->epochs is \(fields.epochs); expected at most 1000000")
    }
    options.epochs = Int(fields.epochs)
    guard fields.batchSize >= 1, fields.batchSize <= 1 << 20 else {
        throw .invalidArgument("options->batch_size is \(fields.batchSize); expected 1 to 1048576")
    }
    options.batchSize = Int(fields.batchSize)
    options.shuffle = fields.shuffle != 0
    guard fields.validationSplit >= 0, fields.validationSplit < 1 else {
        throw .invalidArgument("options->validation_split is \(fields.validationSplit); expected a fraction in [0, 1)")
    }
    options.validationSplit = fields.validationSplit
    options.patience = Int(clamping: fields.patience)
    guard fields.minDelta >= 0, fields.minDelta.isFinite else {
        throw .invalidArgument("options->min_delta is \(fields.minDelta); expected a finite number >= 0")
    }
    options.minDelta = fields.minDelta
    options.restoreBestWeights = fields.restoreBestWeights != 0
    options.reportBatches = fields.reportBatches != 0

    guard let validationData = fields.validationData else {
        guard fields.validationSamples == 0, fields.validationCount == 0 else {
            throw .invalidArgument("options->validation_data is NULL but validation_samples is \(fields.validationSamples) and validation_count \(fields.validationCount); set both to 0, or pass the samples")
        }
        return (options, nil)
    }
    let rows = try asInt(fields.validationSamples, "options->validation_samples")
    guard rows >= 1 else {
        throw .invalidArgument("options->validation_samples is 0 but validation_data is set; expected at least 1 sample")
    }
    _ = try expectCount(fields.validationCount, "options->validation_count",
                        rows: ("validation_samples", rows), perRow: ("input size", inputSize))
    return (options, (validationData, rows))
}

@_cdecl("ae_model_evaluate")
public func ae_model_evaluate(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                              _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_model_evaluate") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let model = box.model
        try requireFloatInput(model, tokenCall: "ae_model_evaluate_tokens")
        let data = try required(data, "data", "n * input size floats")
        let loss = try required(loss, "loss", "a pointer that receives the mean objective")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; evaluating needs at least one sample") }
        try expectSequenceCount(count, "count", rows: rows, model: model)
        // A trainer only for its workspace and objective; evaluation changes nothing in the model.
        let trainer = try Trainer(model: model, batchSize: min(rows, 256))
        loss.pointee = try trainer.evaluate(data, rows: rows)
    }
}

@_cdecl("ae_model_evaluate_labels")
public func ae_model_evaluate_labels(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                     _ labels: UnsafePointer<Int32>?, _ labelsCount: UInt,
                                     _ loss: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded("ae_model_evaluate_labels") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let data = try required(data, "data", "n * input size floats")
        let labels = try required(labels, "labels", "n * label size int32 class indices")
        let loss = try required(loss, "loss", "a pointer that receives the mean objective")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; evaluating needs at least one sample") }
        try expectSequenceCount(count, "count", rows: rows, model: model)
        _ = try expectCount(labelsCount, "labels_count", rows: ("n", rows), perRow: ("label size", model.labelSize))
        let values = try labelsAsFloats(labels, count: rows * model.labelSize, model: model)
        let trainer = try Trainer(model: model, batchSize: min(rows, 256))
        loss.pointee = try values.withUnsafeBufferPointer { (pointer) throws(AutoencoderError) -> Double in
            try trainer.evaluate(data, rows: rows, labels: pointer.baseAddress)
        }
    }
}
