import Collectives
import Hardware
import MoEModel
import Parallelism
import SimCore
import Testing

@Suite("ZeRO peak demand and failures", .serialized)
struct DataParallelPeakTests {
    @Test("every kind's HBM peak equals peakDemand exactly (comm buffers: one bucket)", arguments: ZeROStage.allCases)
    func peaksMatchDemand(stage: ZeROStage) throws {
        let run = try trainDataParallel(
            try tinyConfig(stage: stage, steps: 2, microBatches: 3, isReal: false), ranks: 4)
        for (rank, hbm) in run.hbm.prefix(4).enumerated() {
            for (kind, bytes) in run.trainer.peakDemand(rank: rank) {
                #expect(hbm.peakBytes(kind) == bytes, "\(stage) rank \(rank) \(kind)")
            }
        }
        let buffers = run.trainer.peakDemand(rank: 0).first { $0.kind == .commBuffers }?.bytes
        #expect(buffers == (stage.shardsGradients ? 2 * run.trainer.layout.largestBucketElementCount : 0))
    }

    @Test("a phantom run takes the same time and HBM as the real one", arguments: ZeROStage.allCases)
    func phantomMatchesReal(stage: ZeROStage) throws {
        let real = try trainDataParallel(try tinyConfig(stage: stage, steps: 2, microBatches: 2), ranks: 4)
        let phantom = try trainDataParallel(
            try tinyConfig(stage: stage, steps: 2, microBatches: 2, isReal: false), ranks: 4)
        #expect(real.result.steps.map(\.stepTime) == phantom.result.steps.map(\.stepTime), "\(stage)")
        #expect(real.result.steps.map(\.phases) == phantom.result.steps.map(\.phases), "\(stage)")
        #expect(real.result.bytesSentPerRank == phantom.result.bytesSentPerRank)
        for kind in MemoryKind.allCases {
            #expect(real.hbm.map { $0.peakBytes(kind) } == phantom.hbm.map { $0.peakBytes(kind) }, "\(stage) \(kind)")
        }
    }

    @Test("a rank that runs out of memory mid-run stops the run with its error, not a stall")
    func outOfMemoryMidRun() throws {
        let simulation = Simulation(seed: 0)
        simulation.executor.trapsOnForeignEnqueue = true
        let cluster = try Cluster.singleNode(in: simulation)
        let communicator = try Communicator(cluster: cluster, ranks: (0..<4).map(GPUID.init))
        let trainer = try DataParallelTrainer(
            config: try tinyConfig(stage: .gradients, steps: 1, isReal: false), communicator: communicator)
        // GPU 1 keeps one byte less than the run's peak free: it fails at its largest comm buffer, after the
        // other ranks have started the collectives that wait on it.
        let peak = trainer.peakDemand(rank: 1).reduce(0) { $0 + $1.bytes }
        let gpu = try cluster.gpu(1)
        try simulation.inspect(gpu) { try $0.allocate($0.hbm.freeBytes - peak + 1, .commBuffers) }
        let box = ResultBox(simulation: simulation)
        simulation.spawn(name: "dp") { await box.store(try await trainer.run()) }
        let reason = simulation.run()
        guard case .processFailed(let process, let error) = reason else {
            Issue.record("expected a failure, got \(reason)")
            return
        }
        #expect(process == "dp rank 1")
        #expect(error.hasPrefix("out of memory on gpu1: requested"), "\(error)")
    }
}

@Suite("ZeRO time comes from the actors", .serialized)
struct DataParallelTimingTests {
    @Test("OpKernels.optimizerStep: 0 FLOPs, elements·(2K + gradient + 2) bytes")
    func optimizerKernel() {
        let kernel = OpKernels.optimizerStep(elements: 1000, stateBytesPerElement: 12)
        #expect(kernel.flops == 0 && kernel.hbmBytes == 1000 * (2 * 12 + 2 + 2))
        let fp32Gradient = OpKernels.optimizerStep(elements: 10, stateBytesPerElement: 8, gradientBytesPerElement: 4)
        #expect(fp32Gradient.hbmBytes == 10 * (16 + 4 + 2) && fp32Gradient.name == "AdamW")
        let spec = GPUSpec.h800
        let expected = SimDuration.rounded(seconds: Double(28_000) / spec.hbmBytesPerSecond) + spec.kernelLaunchOverhead
        #expect(spec.duration(of: kernel, onSMs: 1) == expected && spec.duration(of: kernel, onSMs: 132) == expected)
    }

    @Test("stage 0: optimizer time = launch + Ψ(2K+4)/HBM bandwidth, compute = Σ buckets' F and B+W kernels")
    func stagePlainTimes() throws {
        let microBatches = 2
        let run = try trainDataParallel(
            try tinyConfig(stage: .plain, steps: 1, microBatches: microBatches, isReal: false), ranks: 2)
        let spec = GPUSpec.h800
        let k = run.trainer.config.optimizerBytesPerParameter
        let psi = run.trainer.parameterCount
        let optimizer =
            spec.kernelLaunchOverhead + SimDuration.rounded(seconds: Double(psi * (2 * k + 4)) / spec.hbmBytesPerSecond)
        let step = try #require(run.result.steps.last)
        #expect(step.phases.first { $0.name == "optimizer" }?.duration == optimizer)
        let gpu = try run.trainer.communicator.gpu(rank: 0)
        let sms = run.trainer.communicator.cluster.simulation.inspect(gpu.compute) { $0.smCount }
        var perMicroBatch = SimDuration.zero
        for bucket in run.trainer.layout.buckets {
            perMicroBatch = perMicroBatch + spec.duration(of: OpKernels.forward(bucket.ops, name: "F"), onSMs: sms)
            perMicroBatch = perMicroBatch + spec.duration(of: OpKernels.backward(bucket.ops, name: "B"), onSMs: sms)
        }
        var compute = SimDuration.zero
        for _ in 0..<microBatches { compute = compute + perMicroBatch }
        #expect(step.phases.first { $0.name == "compute" }?.duration == compute)
        #expect(compute > .zero && step.stepTime >= compute + optimizer)
    }
}
