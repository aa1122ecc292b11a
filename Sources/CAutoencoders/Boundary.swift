// The checks every exported function makes before it touches caller memory or the core.
//
// The rule of this target: no input may trap, because a Swift trap kills the host process. So
// every pointer is checked for NULL, every size_t is converted to Int only when it fits, every
// element count is compared with the model's shapes using overflow-checked arithmetic, and only
// then is a buffer pointer formed. Nothing here force-unwraps, force-tries, force-casts or asserts.

import Autoencoders
import Glibc

/// An `ae_status` code, as the C functions return it.
typealias CStatus = Int32

/// Runs the body of an exported function: success is AE_OK; a thrown error becomes its status,
/// and its message, prefixed with the function's name, becomes this thread's `ae_last_error()`.
func guarded(_ function: StaticString, _ body: () throws(AutoencoderError) -> Void) -> CStatus {
    do {
        try body()
        return 0
    } catch {
        LastError.set("\(function): \(error.message)")
        return error.kind.rawValue
    }
}

// MARK: - Pointers

/// `pointer`, or an `.invalidArgument` error naming the argument when it is NULL.
func required<P>(_ pointer: P?, _ name: String, _ expected: String) throws(AutoencoderError) -> P {
    guard let pointer else { throw .invalidArgument("\(name) is NULL; expected \(expected)") }
    return pointer
}

/// The model box behind an `ae_model *` handle.
func modelBox(_ handle: OpaquePointer?) throws(AutoencoderError) -> ModelBox {
    let handle = try required(handle, "model", "a model from ae_model_create or ae_model_load")
    return Unmanaged<ModelBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// The trainer box behind an `ae_trainer *` handle.
func trainerBox(_ handle: OpaquePointer?) throws(AutoencoderError) -> TrainerBox {
    let handle = try required(handle, "trainer", "a trainer from ae_trainer_create")
    return Unmanaged<TrainerBox>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

// MARK: - Strings

/// A NUL-terminated C string argument as a Swift string. NULL and invalid UTF-8 are rejected
/// (the message gives the offset of the first bad byte) instead of being repaired.
func utf8String(_ pointer: UnsafePointer<CChar>?, _ name: String) throws(AutoencoderError) -> String {
    let pointer = try required(pointer, name, "a NUL-terminated UTF-8 string")
    if let string = String(validatingCString: pointer) { return string }
    let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self), count: strlen(pointer))
    throw .invalidArgument("\(name) is not valid UTF-8 (first invalid byte at offset \(firstInvalidUTF8Offset(bytes)))")
}

/// The offset of the first byte that does not start or continue a valid UTF-8 sequence.
private func firstInvalidUTF8Offset(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var parser = Unicode.UTF8.ForwardParser()
    var iterator = bytes.makeIterator()
    var offset = 0
    while true {
        switch parser.parseScalar(from: &iterator) {
        case .valid(let scalar): offset += scalar.count
        case .emptyInput: return offset
        case .error: return offset
        }
    }
}

/// A C string the library owns: a malloc'd copy (so it can be freed with free()).
func duplicate(_ string: String) throws(AutoencoderError) -> UnsafeMutablePointer<CChar> {
    guard let copy = strdup(string) else { throw .init(.outOfMemory, "cannot allocate \(string.utf8.count + 1) bytes for a string") }
    return copy
}

// MARK: - Sizes and counts

/// A size_t argument as an Int; values above Int.max are rejected.
func asInt(_ value: UInt, _ name: String) throws(AutoencoderError) -> Int {
    guard let int = Int(exactly: value) else {
        throw .invalidArgument("\(name) is \(value), which is too large (at most \(Int.max))")
    }
    return int
}

/// Whether `byteCount` bytes can be allocated now. A failed Swift allocation traps, so a size the
/// caller chose is tried with the C allocator first. posix_memalign, unlike malloc, is not one of
/// the calls the optimizer may remove as a dead allocation, so the probe really happens.
func canAllocate(_ byteCount: Int) -> Bool {
    var probe: UnsafeMutableRawPointer? = nil
    guard posix_memalign(&probe, 16, max(byteCount, 1)) == 0, let probe else { return false }
    free(probe)
    return true
}

/// Checks that a buffer's element count equals `rows * perRow` (overflow-checked) and returns it.
///   count: "input_count", rows: ("n", 3), perRow: ("input size", 100)
func expectCount(_ count: UInt, _ countName: String, rows: (name: String, value: Int),
                 perRow: (name: String, value: Int)) throws(AutoencoderError) -> Int {
    let (product, overflow) = rows.value.multipliedReportingOverflow(by: perRow.value)
    guard !overflow else {
        throw .shapeMismatch("\(rows.name) * \(perRow.name) = \(rows.value) * \(perRow.value) overflows; \(rows.name) is far too large")
    }
    guard count == UInt(product) else {
        throw .shapeMismatch("\(countName) is \(count) but \(rows.name) * \(perRow.name) = \(rows.value) * \(perRow.value) = \(product) was expected")
    }
    return product
}

/// Rejects NaN and infinite values, naming the first one (and its sample, given the sample size).
func checkFinite(_ values: UnsafeBufferPointer<Float>, _ name: String, perRow: Int? = nil) throws(AutoencoderError) {
    for (index, value) in values.enumerated() where !value.isFinite {
        let sample = perRow.map { " (sample \(index / max($0, 1)))" } ?? ""
        throw .numeric("\(name)[\(index)]\(sample) is \(value); values must be finite")
    }
}
