/// Compression: a model with a fitted quantiser is a lossy codec. compress encodes samples,
/// quantises each code value to a level (CodeQuantizer.swift) and range-codes the levels with the
/// model's per-dimension frequency tables (RangeCoder.swift) into a checksummed container
/// (CompressedCodes.swift); decompress decodes the levels, dequantises them and runs the decoder.
extension Model {
    /// The fitted quantiser, or nil (compress then refuses).
    public var codeQuantizer: CodeQuantizer? { lock.withReadLock { quantizer } }

    /// Sets (or with nil removes) the quantiser; its code size must be the model's.
    public func setCodeQuantizer(_ value: CodeQuantizer?) throws(AutoencoderError) {
        if let value, value.codeSize != codeSize {
            throw .shapeMismatch("the quantiser has \(value.codeSize) code dimensions; the model's code has \(codeSize)")
        }
        lock.withWriteLock { quantizer = value }
    }

    /// Encodes rows samples of training data x[rows, inputSize], fits a quantiser of `bits` (4 to 8)
    /// bits per code value to their codes, sets it and returns it.
    @discardableResult
    public func fitCodeQuantizer(_ x: UnsafePointer<Float>, rows: Int, bits: Int) throws(AutoencoderError) -> CodeQuantizer {
        try requireCodec("fitting a quantiser")
        guard CodeQuantizer.bitRange.contains(bits) else {
            throw .invalidArgument("bits is \(bits); expected 4 to 8 bits per code value")
        }
        guard rows >= 1 else { throw .invalidArgument("n is 0; fitting a quantiser needs at least one sample") }
        var codes = [Float](repeating: 0, count: try codeCount(rows))
        try codes.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
            try encode(x, rows: rows, into: out.baseAddress!)
        }
        let fitted = try codes.withUnsafeBufferPointer { (buffer) throws(AutoencoderError) in
            try CodeQuantizer(fitting: buffer, rows: rows, codeSize: codeSize, bits: bits)
        }
        try setCodeQuantizer(fitted)
        return fitted
    }

    /// A 64-bit name of everything decompression depends on: the first 8 bytes of SHA-256 over the
    /// parameters, the input scaling and the quantiser. A compressed file records it, so that a
    /// file is never decoded by a model other than the one that wrote it.
    public var codecDigest: UInt64 {
        lock.withReadLock {
            var hash = SHA256()
            hash.update("autoencoders codec digest 1\n")
            hash.update(UnsafeRawBufferPointer(start: parameters.pointer, count: parameters.count * 4))
            func add(_ values: [Float]) { values.withUnsafeBytes { hash.update($0) } }
            if let inputScaling {
                hash.update("scaling\n")
                add(inputScaling.offset)
                add(inputScaling.scale)
            }
            if let quantizer {
                hash.update("quantizer \(quantizer.bits)\n")
                add(quantizer.scale)
                add(quantizer.zeroPoint)
                add(quantizer.frequencies)
            }
            let bytes = hash.finalize()
            return bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }

    /// The compressed file of x[rows, inputSize]. `sampleShape` (default the model's input shape)
    /// is recorded for decompression; its product must be the input size.
    public func compress(_ x: UnsafePointer<Float>, rows: Int, sampleShape: [Int]? = nil) throws(AutoencoderError) -> [UInt8] {
        try requireCodec("compress")
        guard let quantizer = codeQuantizer else {
            throw .unsupported("compress: the model has no quantiser; fit one on training data first (ae_model_fit_quantizer, "
                               + "model.fit_quantizer(X, bits=8) in Python, 'autoencoders quantize MODEL TRAIN.npy --bits 8')")
        }
        let shape = sampleShape ?? inputShape
        guard !shape.isEmpty, shape.count <= CompressedCodes.maxRank, shape.allSatisfy({ $0 >= 1 && $0 <= Int(UInt32.max) }),
              shape.reduce(1, { $0.multipliedReportingOverflow(by: $1).partialValue }) == inputSize else {
            throw .shapeMismatch("sample shape \(shape) does not hold the model's \(inputSize) inputs")
        }
        guard rows >= 0 else { throw .invalidArgument("n must be non-negative, got \(rows)") }
        let digest = codecDigest
        var codes = [Float](repeating: 0, count: max(try codeCount(rows), 1))
        try codes.withUnsafeMutableBufferPointer { (out) throws(AutoencoderError) in
            try encode(x, rows: rows, into: out.baseAddress!)
        }
        // The digest and the codes must describe the same weights: a training step on another
        // thread between the two would make a file that decodes wrongly.
        guard codecDigest == digest, codeQuantizer == quantizer else {
            throw .invalidArgument("compress: the model changed while compressing (it is being trained on another thread); compress again when it is not")
        }
        let tables = quantizer.cumulativeTables()
        var coder = RangeEncoder()
        for r in 0..<rows {
            for j in 0..<codeSize {
                let q = quantizer.level(codes[r * codeSize + j], dimension: j)
                let table = tables[j]
                coder.encode(cumulative: table[q], frequency: table[q + 1] - table[q], totalBits: CodeQuantizer.frequencyBits)
            }
        }
        return CompressedCodes.assemble(bits: quantizer.bits, digest: digest, samples: rows, codeSize: codeSize,
                                        sampleShape: shape, payload: coder.finish())
    }

    /// Checks a compressed file against this model: its header, checksum, digest, bits and shapes,
    /// and that its sample count is possible for its payload's length. Returns the header.
    public func compressedHeader(_ bytes: UnsafeRawBufferPointer, source: String) throws(AutoencoderError) -> CompressedCodes.Header {
        try checkedHeader(bytes, source: source).header
    }

    /// The header and the quantiser it was checked against (one snapshot, so that a quantiser set
    /// by another thread meanwhile cannot mix with the checks).
    private func checkedHeader(_ bytes: UnsafeRawBufferPointer, source: String) throws(AutoencoderError) -> (header: CompressedCodes.Header, quantizer: CodeQuantizer) {
        try requireCodec("decompress")
        let header = try CompressedCodes.header(bytes, source: source)
        func fail(_ message: String) -> AutoencoderError { .format("\(source): \(message)") }
        guard let quantizer = codeQuantizer else {
            throw fail("the file was compressed by another model (it needs the model with codec digest \(hex(header.digest, digits: 16)); "
                       + "this model has no quantiser): decompress it with the model (and quantiser) that compressed it")
        }
        let mine = codecDigest
        guard header.digest == mine, codeQuantizer == quantizer else {
            throw fail("the file was compressed by another model (it needs the model with codec digest \(hex(header.digest, digits: 16)); "
                       + "this model's is \(hex(mine, digits: 16))): decompress it with the model (and quantiser) that compressed it")
        }
        guard header.bits == quantizer.bits, header.codeSize == codeSize, header.sampleSize == inputSize else {
            throw fail("its header (\(header.bits) bits, code size \(header.codeSize), sample shape \(header.sampleShape)) does not match the model "
                       + "(\(quantizer.bits) bits, code size \(codeSize), input size \(inputSize))")
        }
        // Every level costs at least the information of the likeliest level of its dimension, and
        // the decoder cannot read more than the payload: this bounds n before anything is allocated.
        let whole = Double(1 << CodeQuantizer.frequencyBits)
        var cheapest = 0.0
        for j in 0..<codeSize {
            var top: Float = 1
            for k in 0..<quantizer.levels { top = max(top, quantizer.frequencies[j * quantizer.levels + k]) }
            cheapest -= _log(Double(top) / whole) / _log(2.0)
        }
        let bound = (8 * Double(header.payload.count) + 64) / max(cheapest, 1e-12) + 1
        guard Double(header.samples) <= bound else {
            throw fail("its header claims \(header.samples) samples, more than its \(header.payload.count)-byte payload can hold")
        }
        return (header, quantizer)
    }

    /// Decompresses into output[n, inputSize], where n is the file's sample count (`outputCount`
    /// must equal n * inputSize). Nothing is written to output unless the whole payload decodes.
    public func decompress(_ bytes: UnsafeRawBufferPointer, source: String, into output: UnsafeMutablePointer<Float>,
                           outputCount: Int) throws(AutoencoderError) {
        let (header, quantizer) = try checkedHeader(bytes, source: source)
        let (expected, overflow) = header.samples.multipliedReportingOverflow(by: inputSize)
        guard !overflow, outputCount == expected else {
            throw .shapeMismatch("output_count is \(outputCount) but the file holds \(header.samples) samples of \(inputSize) values")
        }
        let codes = try decodeLevels(bytes, header: header, quantizer: quantizer, source: source)
        try codes.withUnsafeBufferPointer { (buffer) throws(AutoencoderError) in
            try decode(buffer.baseAddress!, rows: header.samples, into: output)
        }
    }

    /// The dequantised codes [n, codeSize] of a checked file.
    private func decodeLevels(_ bytes: UnsafeRawBufferPointer, header: CompressedCodes.Header, quantizer: CodeQuantizer,
                              source: String) throws(AutoencoderError) -> [Float] {
        let (count, overflow) = header.samples.multipliedReportingOverflow(by: codeSize)
        guard !overflow, count <= Int.max / 4, FileIO.canAllocate(count * 4) else {
            throw .init(.outOfMemory, "cannot allocate the \(count) code values of \(source)")
        }
        var codes = [Float](repeating: 0, count: max(count, 1))   // never empty: its base address is used
        let tables = quantizer.cumulativeTables()
        var decoder = RangeDecoder(UnsafeRawBufferPointer(rebasing: bytes[header.payload]))
        for r in 0..<header.samples {
            for j in 0..<codeSize {
                let q = tables[j].withUnsafeBufferPointer { decoder.decode(cumulative: $0, totalBits: CodeQuantizer.frequencyBits) }
                codes[r * codeSize + j] = quantizer.value(level: q, dimension: j)
            }
            if decoder.failed { break }
        }
        guard decoder.finishedCleanly else {
            throw .format("\(source): the payload is corrupted (it does not decode to \(header.samples) samples of \(codeSize) levels in its \(header.payload.count) bytes)")
        }
        return codes
    }

    /// rows * codeSize, checked: the codes of `rows` samples must fit in memory.
    private func codeCount(_ rows: Int) throws(AutoencoderError) -> Int {
        let (count, overflow) = rows.multipliedReportingOverflow(by: codeSize)
        guard !overflow, count <= Int.max / 4, FileIO.canAllocate(count * 4) else {
            throw .init(.outOfMemory, "the codes of \(rows) samples (\(codeSize) values each) do not fit in memory")
        }
        return count
    }

    /// Compression applies to models that reconstruct floats and decode from the code alone.
    func requireCodec(_ operation: String) throws(AutoencoderError) {
        if isTokenModel { throw .unsupported("\(operation): a token model's inputs are ids; compression applies to float data") }
        try requireReconstruction(operation)
        guard canDecode else {
            throw .unsupported("\(operation): this model's decoder reads encoder feature maps besides the code, so the code alone cannot be decompressed")
        }
    }
}
