import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

@Suite("ZeRO numerics", .serialized)
struct DataParallelNumericsTests {
    /// Trains every stage on `ranks` GPUs and checks each against one reference run of the same global batch.
    private func check(ranks: Int, microBatches: Int, stages: [ZeROStage]) throws {
        let first = try tinyConfig(stage: .plain, microBatches: microBatches)
        var reference = try ReferenceTrainer(config: first.model, training: first.referenceTraining(ranks: ranks))
        let losses = try reference.train()
        let expected = try reference.parameters.flattened()
        for stage in stages {
            let run = try trainDataParallel(try tinyConfig(stage: stage, microBatches: microBatches), ranks: ranks)
            let parameters = try #require(run.result.rankParameters)
            #expect(parameters.count == ranks)
            for rank in 1..<ranks { #expect(parameters[rank] == parameters[0], "\(stage) rank \(rank)") }
            let difference = relativeDifference(parameters[0], expected)
            #expect(difference <= 1e-6, "\(stage) dp=\(ranks): relative difference \(difference)")
            let reported = run.result.steps.compactMap(\.loss)
            #expect(reported.count == 3)
            // Step 0 starts from the same parameters and sums losses in the same order: equal bits.
            #expect(reported.first == losses.first, "\(stage)")
            for (a, b) in zip(reported, losses) { #expect(abs(a - b) <= 1e-6 * abs(b), "\(stage): \(a) vs \(b)") }
        }
    }

    @Test(
        "every stage: ranks bit-identical, parameters within 1e-6 of the reference after 3 steps", arguments: [2, 4, 8])
    func matchesReference(ranks: Int) throws {
        try check(ranks: ranks, microBatches: 1, stages: ZeROStage.allCases)
    }

    @Test("gradient accumulation over 3 micro-batches per rank matches the reference's 6")
    func accumulation() throws {
        try check(ranks: 2, microBatches: 3, stages: ZeROStage.allCases)
    }

    @Test("a wrong reduction would be caught: one rank's data alone drifts from the reference")
    func detectsMismatch() throws {
        // Two ranks' reference against a single-rank run of the same per-rank batch: a different global batch.
        let config = try tinyConfig(stage: .optimizerStates)
        var reference = try ReferenceTrainer(config: config.model, training: config.referenceTraining(ranks: 2))
        _ = try reference.train()
        let run = try trainDataParallel(config, ranks: 1)
        let parameters = try #require(run.result.rankParameters)
        #expect(relativeDifference(parameters[0], try reference.parameters.flattened()) > 1e-4)
    }
}

@Suite("ZeRO across nodes", .serialized)
struct DataParallelMultiNodeTests {
    @Test("on 2 nodes × 2 GPUs the rail-aware collectives keep ranks identical and equal to the reference")
    func twoNodes() throws {
        for stage in [ZeROStage.plain, .optimizerStates, .parameters] {
            let cluster = try Cluster(ClusterSpec(gpu: .h800, nodeCount: 2, gpusPerNode: 2), in: Simulation(seed: 0))
            let config = try tinyConfig(stage: stage, steps: 2)
            let run = try trainDataParallel(config, ranks: 4, cluster: cluster)
            #expect(run.trainer.algorithm == .hierarchical)
            var reference = try ReferenceTrainer(config: config.model, training: config.referenceTraining(ranks: 4))
            _ = try reference.train()
            let parameters = try #require(run.result.rankParameters)
            for rank in 1..<4 { #expect(parameters[rank] == parameters[0]) }
            #expect(relativeDifference(parameters[0], try reference.parameters.flattened()) <= 1e-6, "\(stage)")
        }
    }
}
