import Foundation
import Synchronization

/// What must happen before the weaver exits on Ctrl-C or SIGTERM (cancelling the Slurm jobs a
/// build submitted). Signals are process-wide, so this registry is too: the CLI's one signal
/// handler runs every hook, then exits; executors add a hook while they run and remove it after.
public enum InterruptHooks {
    /// Identifies one added hook, for `remove`.
    struct Token: Hashable, Sendable { let id: Int }

    private static let state = Mutex(State())
    private struct State { var next = 0; var hooks: [Int: @Sendable () -> Void] = [:] }

    /// Adds `hook`; it runs (on the signal handler's queue) if the weaver is interrupted.
    static func add(_ hook: @escaping @Sendable () -> Void) -> Token {
        state.withLock { s in
            s.next += 1
            s.hooks[s.next] = hook
            return Token(id: s.next)
        }
    }

    /// Removes a hook added with `add` (a no-op if it was removed already).
    static func remove(_ token: Token) {
        state.withLock { s in _ = s.hooks.removeValue(forKey: token.id) }
    }

    /// Runs every hook once, in the order they were added, and forgets them.
    public static func runAll() {
        let hooks = state.withLock { s in
            let h = s.hooks.sorted { $0.key < $1.key }.map(\.value)
            s.hooks = [:]
            return h
        }
        for hook in hooks { hook() }
    }
}
