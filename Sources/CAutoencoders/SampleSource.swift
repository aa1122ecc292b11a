// ae_model_train_source: training on samples the caller's function produces batch by batch.

import Autoencoders

/// The C sample source: int (*)(const size_t *indices, size_t count, float *rows,
/// size_t rows_count, void *user_data).
public typealias SampleSourceFunction = @convention(c) (UnsafePointer<UInt>?, UInt, UnsafeMutablePointer<Float>?, UInt,
                                                 UnsafeMutableRawPointer?) -> Int32

@_cdecl("ae_model_train_source")
public func ae_model_train_source(_ handle: OpaquePointer?, _ n: UInt, _ source: SampleSourceFunction?,
                                  _ userData: UnsafeMutableRawPointer?, _ optionsPointer: UnsafeRawPointer?,
                                  _ reportPointer: UnsafeMutableRawPointer?) -> Int32 {
    guarded("ae_model_train_source") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let model = box.model
        try requireFloatInput(model, tokenCall: "ae_model_train_tokens")
        guard !model.isSegmentation else {
            throw .invalidArgument("this segmentation model trains on labels, which a sample source does not give: use ae_model_train_labels")
        }
        let source = try required(source, "source", "a function that fills the samples at the indices it is given")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; training needs at least one sample") }
        let fields = try optionsPointer.map { (raw) throws(AutoencoderError) in try TrainOptionsFields(reading: raw) }
            ?? .defaults
        let (options, validation) = try trainingOptions(fields, inputSize: model.inputSize)
        guard fields.mask == nil, fields.maskCount == 0 else {
            throw .invalidArgument("options->mask must be NULL with a sample source (masks are given with the data to ae_model_train)")
        }
        guard fields.lengths == nil, fields.lengthsCount == 0, fields.validationLengths == nil, fields.validationLengthsCount == 0 else {
            throw .invalidArgument("options->lengths and validation_lengths must be NULL with a sample source: every sample fills the whole time axis (per-sample lengths are given with the data to ae_model_train)")
        }
        if let reportPointer { try checkReportSize(reportPointer) }

        let features = model.inputSize
        var batch = 0
        let samples = SampleSource(count: rows) { (indices, buffer) throws(AutoencoderError) in
            batch += 1
            let floats = indices.count * features
            let status = indices.withMemoryRebound(to: UInt.self) { indices in
                source(indices.baseAddress, UInt(indices.count), buffer, UInt(floats), userData)
            }
            guard status == 0 else {
                let first = indices.first.map { "sample \($0)" } ?? "no sample"
                throw .io("the sample source returned \(status) when asked for \(indices.count) samples (request \(batch) of this call, starting with \(first)); training stopped and the model was restored to its state before this call")
            }
        }
        try runTraining(box, fields, reportPointer) { (progress) throws(AutoencoderError) in
            try model.fit(source: samples, validation: validation?.data, validationRows: validation?.rows ?? 0,
                          options: options, progress: progress)
        }
    }
}
