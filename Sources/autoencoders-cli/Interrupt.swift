#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// Ctrl-C during `train`: the first SIGINT asks training to stop after the current batch (the
/// progress callback sees `requested` and returns "stop"); the tool then saves the model as trained
/// so far and says so. A second SIGINT exits at once (status 130) without saving; the model file is
/// written atomically, so an interrupted save leaves the old file (or none), never half of one.
enum Interrupt {
    /// SIGINTs received since `install` (written by the signal handler, hence atomic).
    static let count = Atomic<Int32>(0)
    /// What the handler prints on the second SIGINT: prepared before installing it, because a
    /// signal handler may only call async-signal-safe functions (write, _exit), not allocate.
    nonisolated(unsafe) static var secondMessage: UnsafeMutablePointer<CChar>? = nil

    static var requested: Bool { count.load(ordering: .relaxed) > 0 }

    /// Installs the handler. On a terminal the message first erases the progress bar's line.
    static func install(terminal: Bool) {
        let text = (terminal ? "\r\u{1B}[K" : "\n") + "\(Console.toolName): interrupted again: exiting without saving\n"
        if secondMessage == nil { secondMessage = strdup(text) }
        count.store(0, ordering: .relaxed)
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            if Interrupt.count.wrappingAdd(1, ordering: .relaxed).oldValue >= 1 {
                if let message = Interrupt.secondMessage { _ = write(2, message, strlen(message)) }
                _exit(130)
            }
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_RESTART
        sigaction(SIGINT, &action, nil)
    }

    /// Puts back the default action (Ctrl-C ends the process), e.g. once training is over.
    static func uninstall() {
        signal(SIGINT, SIG_DFL)
    }
}
