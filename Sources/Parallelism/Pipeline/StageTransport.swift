import Hardware
import SimCore
import Tensors

/// How stage workers move activations and gradients: over the emulated fabric, or instantly (unit costs).
///
/// A send never blocks its sender; a receive waits until the message with that (source, tag) is there.
protocol StageTransport: Sendable {
    /// Posts `tensor` from GPU `source` to GPU `destination` under `tag`.
    func send(_ tensor: Tensor, from source: Int, to destination: Int, tag: Int, label: String) async throws
    /// The next message `source` sent to `destination` under `tag`, with the instant it was sent.
    func receiveMessage(from source: Int, to destination: Int, tag: Int, label: String) async throws -> StageMessage
}

/// A received stage message and the instant its sender posted it (where a receiver's wait stops being the
/// sender's compute and becomes the transfer's, for `StepAccounting`).
struct StageMessage: Sendable {
    let tensor: Tensor
    let sentAt: SimInstant
}

extension StageTransport {
    /// The next message `source` sent to `destination` under `tag`.
    func receive(from source: Int, to destination: Int, tag: Int, label: String) async throws -> Tensor {
        try await receiveMessage(from: source, to: destination, tag: tag, label: label).tensor
    }
}

/// Messages on the fabric: `GPU.startSend` (wire bytes follow the tensor's dtype) and `GPU.receive`.
struct FabricStageTransport: StageTransport {
    let gpus: [GPU]

    func send(_ tensor: Tensor, from source: Int, to destination: Int, tag: Int, label: String) async throws {
        _ = try await gpus[source].startSend(tensor, to: gpus[destination].id, tag: tag)
    }

    func receiveMessage(from source: Int, to destination: Int, tag: Int, label: String) async throws -> StageMessage {
        let message = try await gpus[destination].receiveMessage(from: gpus[source].id, tag: tag)
        return StageMessage(tensor: message.tensor, sentAt: message.sentAt)
    }
}

/// Free communication: a message is there the instant it is sent (one mailbox per source, destination, tag).
actor InstantStageTransport: StageTransport, SimulatedActor {
    nonisolated let simulation: Simulation
    private struct Key: Hashable {
        let source: Int
        let destination: Int
        let tag: Int
    }
    private var mailboxes: [Key: Mailbox<StageMessage>] = [:]  // lookup only, never iterated

    init(in simulation: Simulation) { self.simulation = simulation }

    private func mailbox(_ key: Key, label: String) -> Mailbox<StageMessage> {
        if let existing = mailboxes[key] { return existing }
        let created = Mailbox<StageMessage>("gpu\(key.destination) <- gpu\(key.source) \(label)", in: simulation)
        mailboxes[key] = created
        return created
    }

    func send(_ tensor: Tensor, from source: Int, to destination: Int, tag: Int, label: String) async throws {
        await mailbox(Key(source: source, destination: destination, tag: tag), label: label).send(
            StageMessage(tensor: tensor, sentAt: simulation.now))
    }

    func receiveMessage(from source: Int, to destination: Int, tag: Int, label: String) async throws -> StageMessage {
        await mailbox(Key(source: source, destination: destination, tag: tag), label: label).receive()
    }
}
