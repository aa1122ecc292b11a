// Anomaly detection: fitting, setting and reading the threshold on the per-sample score, and
// labelling samples with it.

import Autoencoders

@_cdecl("ae_model_fit_threshold")
public func ae_model_fit_threshold(_ handle: OpaquePointer?, _ data: UnsafePointer<Float>?, _ n: UInt, _ count: UInt,
                                   _ quantile: Double, _ threshold: UnsafeMutablePointer<Float>?) -> Int32 {
    guarded("ae_model_fit_threshold") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        let data = try required(data, "data", "n * input size floats of normal samples")
        let rows = try asInt(n, "n")
        guard rows >= 1 else { throw .invalidArgument("n is 0; fitting a threshold needs at least one sample") }
        try requireFloatInput(box.model, tokenCall: "ae_model_score_tokens")
        _ = try expectCount(count, "count", rows: ("n", rows), perRow: ("input size", box.model.inputSize))
        guard quantile >= 0, quantile <= 1 else { throw .invalidArgument("quantile is \(quantile); expected a number in [0, 1], e.g. 0.99") }
        let value = try box.writer.run(.reject) { () throws(AutoencoderError) in
            try box.model.fitAnomalyThreshold(data, rows: rows, quantile: quantile)
        }
        threshold?.pointee = value
    }
}

@_cdecl("ae_model_set_threshold")
public func ae_model_set_threshold(_ handle: OpaquePointer?, _ threshold: Float) -> Int32 {
    guarded("ae_model_set_threshold") { () throws(AutoencoderError) in
        let box = try modelBox(handle)
        try box.writer.run(.reject) { () throws(AutoencoderError) in try box.model.setAnomalyThreshold(threshold) }
    }
}

@_cdecl("ae_model_get_threshold")
public func ae_model_get_threshold(_ handle: OpaquePointer?, _ threshold: UnsafeMutablePointer<Float>?,
                                   _ hasThreshold: UnsafeMutablePointer<Int32>?) -> Int32 {
    guarded("ae_model_get_threshold") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let hasThreshold = try required(hasThreshold, "has_threshold", "a pointer to an int")
        let value = model.anomalyThreshold
        hasThreshold.pointee = value == nil ? 0 : 1
        if let value { threshold?.pointee = value }
    }
}

@_cdecl("ae_model_predict")
public func ae_model_predict(_ handle: OpaquePointer?, _ input: UnsafePointer<Float>?, _ n: UInt, _ inputCount: UInt,
                             _ labels: UnsafeMutablePointer<Int32>?, _ labelsCount: UInt) -> Int32 {
    guarded("ae_model_predict") { () throws(AutoencoderError) in
        let model = try modelBox(handle).model
        let input = try required(input, "input", "n * input size floats")
        let labels = try required(labels, "labels", "a buffer of n int32_t")
        let rows = try asInt(n, "n")
        try expectSequenceCount(inputCount, "input_count", rows: rows, model: model)
        guard labelsCount == n else { throw .shapeMismatch("labels_count is \(labelsCount) but n = \(n) was expected") }
        try model.predictAnomalies(input, rows: rows, into: labels)
    }
}
