// Versions: the library's version at run time (the header's AE_VERSION_* give the build-time one).

import Autoencoders
import Glibc

private let versionString: UnsafeMutablePointer<CChar>? = strdup(Version.string)

@_cdecl("ae_version_string")
public func ae_version_string() -> UnsafePointer<CChar>? {
    // strdup fails only when the process is out of memory at load time; "" is still a valid string.
    UnsafePointer(versionString) ?? LastError.empty
}

@_cdecl("ae_version_major")
public func ae_version_major() -> Int32 { Int32(clamping: Version.major) }

@_cdecl("ae_version_minor")
public func ae_version_minor() -> Int32 { Int32(clamping: Version.minor) }

@_cdecl("ae_version_patch")
public func ae_version_patch() -> Int32 { Int32(clamping: Version.patch) }
