import Hardware
import SimCore
import Tensors

/// Executes `CollectivePlan`s on a communicator's GPU actors: one child task per rank, sending real or phantom
/// tensors through the fabric and reducing real values in the plan's fixed order.
///
/// Reductions cost no virtual time (NCCL fuses them into the copy kernels that move the data, whose speed
/// the links already bound); only the fabric moves the clock.
public struct CollectiveRunner: Sendable {
    /// The ranks the plans run on.
    public let communicator: Communicator
    /// Added to every tag of a plan, to keep concurrent collectives between the same GPUs apart.
    public let tagBase: Int

    /// A runner on `communicator` whose messages use tags `tagBase`, `tagBase + 1`, `tagBase + 2`.
    public init(communicator: Communicator, tagBase: Int = 0) {
        self.communicator = communicator
        self.tagBase = tagBase
    }

    /// The time and per-rank outputs of a plan run to completion.
    public struct Outcome: Sendable {
        /// Flat outputs by rank (`outputElementCount` elements each).
        public var outputs: [Tensor]
        /// Virtual time from the start until the last rank finished.
        public var time: SimDuration
    }

    /// Runs `plan` with `inputs[r]` on rank r from inside a simulated process, one child task per rank; returns
    /// the flat outputs by rank once every rank has finished and every send is delivered.
    public func execute(_ plan: CollectivePlan, inputs: [Tensor]) async throws -> [Tensor] {
        try check(plan, inputs)
        let gpus = try (0..<communicator.size).map { try communicator.gpu(rank: $0) }
        return try await withThrowingTaskGroup(of: (Int, Tensor).self) { group in
            for rank in 0..<plan.rankCount {
                group.addTask {
                    (rank, try await runRank(plan.programs[rank], rank: rank, input: inputs[rank], gpu: gpus[rank]))
                }
            }
            var outputs = [Tensor?](repeating: nil, count: plan.rankCount)
            for try await (rank, output) in group { outputs[rank] = output }
            return outputs.compactMap { $0 }
        }
    }

    /// Spawns a process that executes `plan` and drives the communicator's simulation until nothing is left
    /// to run; call it from the driver (not from simulated code) while no other process is live.
    public func run(_ plan: CollectivePlan, inputs: [Tensor]) throws -> Outcome {
        let simulation = communicator.cluster.simulation
        try CollectiveError.require(
            simulation.liveProcessCount == 0, "live process count", simulation.liveProcessCount,
            "run drives the whole simulation; from a simulated process call execute instead")
        try check(plan, inputs)
        let box = OutcomeBox(simulation: simulation)
        simulation.spawn(name: plan.name) {
            let start = simulation.now
            let outputs = try await execute(plan, inputs: inputs)
            await box.store(Outcome(outputs: outputs, time: simulation.now - start))
        }
        let reason = simulation.run()
        guard reason == .finished, let outcome = simulation.inspect(box, { $0.outcome }) else {
            throw CollectiveError.simulationStopped(reason: reason.description)
        }
        return outcome
    }

    private func check(_ plan: CollectivePlan, _ inputs: [Tensor]) throws {
        try CollectiveError.require(
            plan.rankCount == communicator.size, "\(plan.name) rank count", plan.rankCount,
            "the communicator has \(communicator.size) ranks")
        try CollectiveError.require(
            inputs.count == plan.rankCount, "\(plan.name) input count", inputs.count, "needs one per rank")
        try plan.validate()
        for (rank, input) in inputs.enumerated() where input.elementCount != plan.programs[rank].inputElementCount {
            throw CollectiveError.invalidArgument(
                name: "\(plan.name) rank \(rank) input", value: "\(input)",
                reason: "needs \(plan.programs[rank].inputElementCount) elements")
        }
    }

    /// One rank's program on its GPU.
    func runRank(
        _ program: CollectivePlan.RankProgram, rank: Int, input: Tensor, gpu: GPU, fillSlices: Int = 1
    ) async throws -> Tensor {
        var blocks = [Tensor?](repeating: nil, count: program.blockElementCounts.count)
        let flat = try input.reshaped([input.elementCount])
        var offset = 0
        for block in program.inputBlocks {
            let count = program.blockElementCounts[block]
            blocks[block] = try flat.slicingRows(offset..<(offset + count))
            offset += count
        }
        func take(_ block: Int) throws -> Tensor {
            if let tensor = blocks[block] { return tensor }
            // Only an empty block may be read before it was written: it has nothing to wait for.
            try CollectiveError.require(
                program.blockElementCounts[block] == 0, "rank \(rank) block", block, "is read before it was filled")
            return try Self.empty(like: input)
        }
        var sends: [SendHandle] = []
        var delivered = 0
        for action in program.actions {
            switch action {
            case .send(let indices, let peer, let tag):
                let parts = try indices.map(take)
                let message = parts.count == 1 ? parts[0] : try Tensor.concatenatingRows(parts)
                sends.append(
                    try await gpu.startSend(
                        message, to: communicator.ranks[peer], tag: tagBase + tag, flowFillSlices: fillSlices))
            case .receive(let indices, let peer, let tag, let combine):
                let message = try await gpu.receive(from: communicator.ranks[peer], tag: tagBase + tag)
                try CollectiveError.require(
                    message.elementCount == program.elementCount(of: indices), "rank \(rank) message from rank \(peer)",
                    message, "expected \(program.elementCount(of: indices)) elements")
                var start = 0
                for block in indices {
                    let count = program.blockElementCounts[block]
                    let part = indices.count == 1 ? message : try message.slicingRows(start..<(start + count))
                    start += count
                    blocks[block] = combine == .store ? part : try part.adding(try take(block))
                }
            case .copy(let from, let to):
                blocks[to] = try take(from)
            case .scale(let block, let factor):
                blocks[block] = try take(block).scaled(by: factor)
            case .waitSends(let leaving):
                while sends.count - delivered > leaving {
                    try await sends[delivered].wait()
                    delivered += 1
                }
            }
        }
        for handle in sends[delivered...] { try await handle.wait() }
        let parts = try program.outputBlocks.map(take)
        guard parts.count > 1 else { return try parts.first ?? Self.empty(like: input) }
        return try Tensor.concatenatingRows(parts)
    }

    /// A flat tensor of no elements, phantom if `input` is.
    private static func empty(like input: Tensor) throws -> Tensor {
        input.isPhantom ? try Tensor(phantom: [0], dtype: input.dtype) : try Tensor(zeros: [0], dtype: input.dtype)
    }
}

/// Where the driving process leaves a plan's outcome for the driver to read.
private actor OutcomeBox: SimulatedActor {
    nonisolated let simulation: Simulation
    private(set) var outcome: CollectiveRunner.Outcome?

    init(simulation: Simulation) { self.simulation = simulation }

    func store(_ value: CollectiveRunner.Outcome) { outcome = value }
}
