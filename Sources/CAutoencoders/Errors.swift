// Errors: the status names, the thread-local last error message, and ae_free.

import Autoencoders
import Glibc

/// The message of the last failed call on each thread: a malloc'd C string kept in a pthread key,
/// replaced by the next failure on the same thread and freed by the key's destructor when the
/// thread exits.
enum LastError {
    /// The destructor is libc's own `free`, not a Swift closure: a host may dlclose the library
    /// while its threads still hold messages, and the destructor then runs after this code is gone.
    private static let key: pthread_key_t? = {
        var key = pthread_key_t()
        guard pthread_key_create(&key, free) == 0 else { return nil }
        return key
    }()

    /// The empty message, for threads without a failed call.
    static let empty: UnsafePointer<CChar> = {
        let byte = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()

    static func set(_ message: String) {
        guard let key else { return }
        let copy = strdup(message)  // nil if out of memory: then the message is "" rather than stale
        let previous = pthread_getspecific(key)
        if pthread_setspecific(key, copy) == 0 {
            free(previous)
        } else {
            free(copy)
        }
    }

    static var current: UnsafePointer<CChar> {
        if let key, let message = pthread_getspecific(key) {
            return UnsafePointer(message.assumingMemoryBound(to: CChar.self))
        }
        return empty
    }
}

/// The status names, in code order (index = ae_status value).
private let statusNames: [UnsafeMutablePointer<CChar>?] = ([
    "AE_OK", "AE_ERR_INVALID_ARGUMENT", "AE_ERR_SHAPE", "AE_ERR_INVALID_SPEC", "AE_ERR_IO", "AE_ERR_FORMAT",
    "AE_ERR_NUMERIC", "AE_ERR_UNSUPPORTED", "AE_ERR_OUT_OF_MEMORY", "AE_ERR_INTERNAL",
] as [String]).map { strdup($0) }
private let unknownStatus: UnsafeMutablePointer<CChar>? = strdup("AE_UNKNOWN_STATUS")

@_cdecl("ae_status_string")
public func ae_status_string(_ status: Int32) -> UnsafePointer<CChar>? {
    guard status >= 0, Int(status) < statusNames.count, let name = statusNames[Int(status)] else {
        return UnsafePointer(unknownStatus) ?? LastError.empty
    }
    return UnsafePointer(name)
}

@_cdecl("ae_last_error")
public func ae_last_error() -> UnsafePointer<CChar>? {
    LastError.current
}

@_cdecl("ae_free")
public func ae_free(_ pointer: UnsafeMutableRawPointer?) {
    free(pointer)
}
