import Synchronization

/// One task parked until a value comes or the task is cancelled, whichever is first.
///
/// The owner (an actor's queue of receivers, a message's waiters) files the waiter, hands it a value with
/// `resume(returning:)` and, when `wait()` throws `CancellationError`, takes it out of its queue again. The
/// cancellation handler resumes the parked task directly: its job goes to the actor it waits on (the
/// simulation executor), never to the global executor, so cancelling from the driver (`Simulation.cancel`,
/// `shutdown`) or from simulated code (a task group cancelling its children) stays deterministic.
public final class CancellableWaiter<Value: Sendable>: Sendable {
    private enum State {
        /// Filed, not yet parked.
        case idle
        case parked(UnsafeContinuation<Value, any Error>)
        /// A value came before the task parked.
        case ready(Value)
        /// Cancelled before the task parked.
        case cancelled
        /// Resumed, with a value or by cancellation.
        case done
    }

    private let state = Mutex<State>(.idle)

    public init() {}

    /// Parks the current task until `resume(returning:)` gives a value; throws `CancellationError` when the
    /// task is (or already was) cancelled first. Call it once.
    public func wait(isolation: isolated (any Actor)? = #isolation) async throws -> Value {
        try await withTaskCancellationHandler(
            operation: {
                _ = isolation  // captured, so the closure runs on the caller's actor instead of hopping off it
                return try await withUnsafeThrowingContinuation { continuation in
                    let early: Result<Value, any Error>? = state.withLock { state in
                        switch state {
                        case .idle:
                            state = .parked(continuation)
                            return nil
                        case .ready(let value):
                            state = .done
                            return .success(value)
                        case .cancelled, .parked, .done:
                            state = .done
                            return .failure(CancellationError())
                        }
                    }
                    if let early { continuation.resume(with: early) }
                }
            },
            onCancel: { cancel() },
            isolation: isolation)
    }

    /// Hands `value` to the waiter; false when it was cancelled first (the value is then not taken).
    @discardableResult
    public func resume(returning value: Value) -> Bool {
        let (taken, continuation): (Bool, UnsafeContinuation<Value, any Error>?) = state.withLock { state in
            switch state {
            case .idle:
                state = .ready(value)
                return (true, nil)
            case .parked(let continuation):
                state = .done
                return (true, continuation)
            case .ready, .cancelled, .done:
                return (false, nil)
            }
        }
        continuation?.resume(returning: value)
        return taken
    }

    private func cancel() {
        let continuation: UnsafeContinuation<Value, any Error>? = state.withLock { state in
            switch state {
            case .idle:
                state = .cancelled
                return nil
            case .parked(let continuation):
                state = .done
                return continuation
            case .ready, .cancelled, .done:
                return nil
            }
        }
        continuation?.resume(throwing: CancellationError())
    }
}
