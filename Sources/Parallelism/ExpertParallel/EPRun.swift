import Collectives
import Hardware
import MoEModel
import SimCore
import Tensors

/// One `EPRunRequest` on an EP group: a process per rank runs the layer forward (and backward), an actor
/// collects what each rank returns, and `report` summarises it after the simulation ran, comparing real runs
/// with the single-device `MoELayer` on the same tokens.
public final class EPRun: Sendable {
    public let request: EPRunRequest
    public let layer: ExpertParallelLayer
    /// Every rank's tokens, concatenated in rank order ([ranks × tokens, hidden]).
    public let input: Tensor
    /// The gradient of the output fed to backward, same shape.
    public let outputGradient: Tensor
    public let parameters: ParameterSet
    let log: EPRunLog

    /// Builds the layer and the data of `request` on `communicator`; throws naming a value that does not fit.
    public init(_ request: EPRunRequest, communicator: Communicator, tagBase: Int = 1 << 42) throws {
        let placement = try ExpertPlacement(communicator: communicator, expertCount: request.expertCount)
        try request.validate(rankCount: communicator.size, nodeCount: placement.nodeCount)
        self.request = request
        let config = request.config(nodeCount: placement.nodeCount)
        let moe = MoELayer(prefix: "moe", config: config)
        layer = try ExpertParallelLayer(
            layer: moe, hiddenSize: request.hiddenSize, expertWidth: request.expertWidth, communicator: communicator,
            options: request.options)
        let rows = request.tokensPerRank * communicator.size
        let shape = [rows, request.hiddenSize]
        if request.real {
            parameters = try Self.parameters(
                moe, hidden: request.hiddenSize, width: request.expertWidth, seed: request.seed)
            input = try Self.normal(shape, seed: SplitMix64.derivedSeed(request.seed, stream: 1_001))
            outputGradient = try Self.normal(shape, seed: SplitMix64.derivedSeed(request.seed, stream: 1_002))
        } else {
            parameters = ParameterSet()
            input = try Tensor(phantom: shape)
            outputGradient = try Tensor(phantom: shape)
        }
        log = EPRunLog(rankCount: communicator.size, in: communicator.cluster.simulation)
        self.tagBase = tagBase
    }

    let tagBase: Int

    /// Spawns one process per rank (each holds its parameters on HBM for the call and frees them at its end);
    /// run the simulation, then read `report()`. Throws, spawning nothing, when a rank's rows cannot be sliced.
    public func spawn() throws {
        let simulation = layer.communicator.cluster.simulation
        let tokens = request.tokensPerRank
        let slices = try (0..<layer.placement.rankCount).map { rank in
            let rows = (rank * tokens)..<((rank + 1) * tokens)
            return (input: try input.slicingRows(rows), gradient: try outputGradient.slicingRows(rows))
        }
        for (rank, slice) in slices.enumerated() {
            let (layer, log, request, parameters, tagBase) = (layer, log, request, parameters, tagBase)
            simulation.spawn(name: "moe rank \(rank)") {
                try await layer.allocateParameters(rank: rank)
                let forward = try await layer.forward(
                    rank: rank, input: slice.input, parameters: parameters, tagBase: tagBase)
                await log.setForward(rank, forward.output, forward.stats)
                if request.backward {
                    let backward = try await layer.backward(
                        rank: rank, outputGradient: slice.gradient, cache: forward.cache, parameters: parameters,
                        tagBase: tagBase)
                    let weights = try await layer.runWeightTasks(rank: rank, backward)
                    await log.setBackward(rank, backward, weights, end: simulation.now)
                }
                try await layer.freeParameters(rank: rank)
            }
        }
    }

    /// Seeded parameters of `layer`: matrices N(0, 1 / fan-in).
    public static func parameters(_ layer: MoELayer, hidden: Int, width: Int, seed: UInt64) throws -> ParameterSet {
        var parameters = ParameterSet()
        for (position, entry) in layer.parameterShapes(hiddenSize: hidden, width: width).enumerated() {
            let scale = 1 / Float(entry.shape[0]).squareRoot()
            let tensor = try normal(entry.shape, seed: SplitMix64.derivedSeed(seed, stream: UInt64(position)))
            try parameters.append(entry.name, tensor.scaled(by: scale))
        }
        return parameters
    }

    static func normal(_ shape: [Int], seed: UInt64) throws -> Tensor {
        var generator = SplitMix64(seed: seed)
        return try Tensor(shape: shape, values: (0..<shape.reduce(1, *)).map { _ in generator.nextNormal() })
    }
}

/// What every rank of an `EPRun` returned.
actor EPRunLog: SimulatedActor {
    nonisolated let simulation: Simulation
    var outputs: [Tensor?]
    var stats: [EPRankStats?]
    var backward: [ExpertParallelLayer.BackwardResult?]
    var weightGradients: [[(String, Tensor)]]
    var backwardEnds: [SimInstant]

    init(rankCount: Int, in simulation: Simulation) {
        self.simulation = simulation
        outputs = Array(repeating: nil, count: rankCount)
        stats = Array(repeating: nil, count: rankCount)
        backward = Array(repeating: nil, count: rankCount)
        weightGradients = Array(repeating: [], count: rankCount)
        backwardEnds = Array(repeating: .start, count: rankCount)
    }

    func setForward(_ rank: Int, _ output: Tensor, _ stats: EPRankStats) {
        outputs[rank] = output
        self.stats[rank] = stats
    }

    func setBackward(
        _ rank: Int, _ result: ExpertParallelLayer.BackwardResult, _ weights: [(String, Tensor)], end: SimInstant
    ) {
        backward[rank] = result
        weightGradients[rank] = weights
        backwardEnds[rank] = end
    }
}
