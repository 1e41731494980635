import Hardware
import SimCore
import Testing

@Suite("Compute partitions and HBM")
struct ComputeAndMemoryTests {
    let spec = GPUSpec.h800

    @Test("a compute-bound GEMM takes 132/112 as long with 20 SMs reserved for communication")
    func gemmScalesWithSMs() throws {
        let gemm = Kernel.gemm(m: 8192, n: 8192, k: 8192)
        let launch = spec.kernelLaunchOverhead
        let all = spec.duration(of: gemm, onSMs: 132) - launch
        let reserved = spec.duration(of: gemm, onSMs: 112) - launch
        #expect(all == .rounded(seconds: 2 * 8192.0 * 8192 * 8192 / 989e12))
        #expect(abs(reserved / all - 132.0 / 112.0) < 1e-6)
        let fp8 = Kernel.gemm(m: 8192, n: 8192, k: 8192, precision: .fp8, efficiency: 0.5)
        #expect(
            spec.duration(of: fp8, onSMs: 132) - launch == .rounded(seconds: 2 * 8192.0 * 8192 * 8192 / (1979e12 * 0.5))
        )
    }

    @Test("a memory-bound kernel follows HBM bandwidth whatever the SM count", arguments: [8, 112, 132])
    func memoryBound(smCount: Int) {
        let copy = Kernel(name: "copy", flops: 1e6, hbmBytes: 3_350_000_000)
        #expect(spec.duration(of: copy, onSMs: smCount) == .milliseconds(1) + spec.kernelLaunchOverhead)
    }

    @Test("kernels on one partition run in order; the two partitions run concurrently; spans carry FLOPs")
    func partitionsInOrderAndConcurrent() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1), in: simulation)
        let gpu = cluster.gpus[2]
        let copy = Kernel(name: "copy", flops: 0, hbmBytes: 335_000_000)  // 100 µs
        let ends = Collector<SimInstant>(in: simulation)
        simulation.spawn(name: "compute") {
            try await gpu.compute.enqueue(copy)
            await ends.set(0, try await gpu.compute.run(copy))
        }
        simulation.spawn(name: "comm") { await ends.set(1, try await gpu.comm.run(copy)) }
        #expect(simulation.run() == .finished)
        let kernelNs: Int64 = 104_000
        let values = simulation.inspect(ends) { $0.values }
        #expect(values[0] == SimInstant(nanosecondsSinceStart: 2 * kernelNs))
        #expect(values[1] == SimInstant(nanosecondsSinceStart: kernelNs))
        #expect(simulation.now == SimInstant(nanosecondsSinceStart: 2 * kernelNs))
        let report = try cluster.gpuReport(2)
        #expect(report.computeSMCount == 112 && report.commSMCount == 20)
        #expect(report.computeKernelCount == 2 && report.commKernelCount == 1)
        #expect(report.computeBusyTime == .nanoseconds(2 * kernelNs) && report.commBusyTime == .nanoseconds(kernelNs))
        let spans = simulation.trace.events.filter { $0.actor == "gpu2" }.sorted {
            ($0.lane, $0.start) < ($1.lane, $1.start)
        }
        #expect(spans.map(\.lane) == ["comm", "compute", "compute"])
        #expect(spans.map(\.start.nanosecondsSinceStart) == [0, 0, kernelNs])
        #expect(spans.map(\.end.nanosecondsSinceStart) == [kernelNs, kernelNs, 2 * kernelNs])
        #expect(spans[0].args.map(\.0) == ["flops", "bytes", "sms"])
        #expect(spans[0].args.map(\.1) == [.double(0), .int(335_000_000), .int(20)])
        #expect(spans[1].args.map(\.1) == [.double(0), .int(335_000_000), .int(112)])
    }

    @Test("invalid kernels and specs are refused with the bad value named")
    func invalidInput() throws {
        #expect(
            throws: HardwareError.invalidParameter(
                name: "kernel 'k' efficiency", value: "1.5", reason: "must be in (0, 1]")
        ) {
            try Kernel(name: "k", flops: 1, hbmBytes: 0, efficiency: 1.5).validate()
        }
        var bad = ClusterSpec()
        bad.gpu.nicBytesPerSecond = 0
        #expect(
            throws: HardwareError.invalidParameter(
                name: "nicBytesPerSecond", value: "0.0", reason: "must be at least 1 MB/s")
        ) {
            try Cluster(bad, in: makeSimulation())
        }
        let cluster = try Cluster.singleNode(in: makeSimulation())
        let endless = Kernel(name: "endless", flops: 1e24, hbmBytes: 0, efficiency: 1e-9)
        #expect(throws: HardwareError.self) {
            try cluster.simulation.inspect(cluster.gpus[0].compute) { try $0.enqueue(endless) }
        }
        #expect(throws: HardwareError.self) { try GPUSpec.preset(named: "B300") }
        #expect(try GPUSpec.preset(named: "H200").hbmBytes == 143_771 * 1_048_576)
        // nvidia-smi's 81,559 MiB for an 80 GB part, not 80e9 bytes.
        #expect(GPUSpec.h800.hbmBytes == 85_520_809_984 && GPUSpec.h100.hbmBytes == GPUSpec.h800.hbmBytes)
    }

    @Test("allocating past HBM capacity throws outOfMemory naming the GPU, the request and the usage")
    func outOfMemory() throws {
        var hbm = HBM(gpuName: "gpu3", capacityBytes: 80_000_000_000)
        try hbm.allocate(70_000_000_000, .parameters)
        let error = HardwareError.outOfMemory(
            gpu: "gpu3", kind: .activations, requestedBytes: 20_000_000_000, usedBytes: 70_000_000_000,
            capacityBytes: 80_000_000_000)
        #expect(throws: error) { try hbm.allocate(20_000_000_000, .activations) }
        #expect(
            error.description
                == "out of memory on gpu3: requested 20000000000 bytes of activations with 70000000000 of "
                + "80000000000 bytes in use (10000000000 free)")
        #expect(hbm.usedBytes == 70_000_000_000)
        #expect(
            throws: HardwareError.freeExceedsAllocation(
                gpu: "gpu3", kind: .gradients, requestedBytes: 1, allocatedBytes: 0)
        ) { try hbm.free(1, .gradients) }
    }

    @Test("peaks are exact per kind and in total")
    func peakTracking() throws {
        var hbm = HBM(gpuName: "gpu0", capacityBytes: 1_000)
        try hbm.allocate(300, .parameters)
        try hbm.allocate(200, .activations)
        try hbm.allocate(150, .activations)
        try hbm.free(350, .activations)
        try hbm.allocate(400, .optimizerState)
        try hbm.allocate(100, .activations)
        #expect(hbm.currentBytes(.activations) == 100)
        #expect(hbm.peakBytes(.activations) == 350)
        #expect(hbm.peakBytes(.parameters) == 300)
        #expect(hbm.peakBytes(.gradients) == 0)
        #expect(hbm.usedBytes == 800)
        #expect(hbm.peakBytes == 800)
        try hbm.free(400, .optimizerState)
        #expect(hbm.peakBytes == 800)
        #expect(hbm.freeBytes == 600)
    }

    @Test("a GPU's HBM follows allocate and free calls made from simulated code")
    func gpuAllocation() throws {
        let simulation = makeSimulation()
        let cluster = try Cluster(.coarseChunks(nodeCount: 1, gpu: .h200), in: simulation)
        let gpu = try cluster.gpu(7)
        simulation.spawn(name: "alloc") {
            try await gpu.allocate(100_000_000_000, .parameters)
            try await gpu.free(40_000_000_000, .parameters)
            try await gpu.allocate(100_000_000_000, .commBuffers)
        }
        guard case .processFailed(let process, let error) = simulation.run() else {
            Issue.record("the over-allocation was accepted")
            return
        }
        #expect(process == "alloc")
        #expect(error.hasPrefix("out of memory on gpu7: requested 100000000000 bytes of commBuffers"))
        #expect(simulation.inspect(gpu) { $0.hbm.peakBytes } == 100_000_000_000)
        let memory = cluster.memoryReports()
        #expect(memory.map(\.usedBytes) == [0, 0, 0, 0, 0, 0, 0, 60_000_000_000])
        #expect(memory[7].peakBytes(.parameters) == 100_000_000_000 && memory[7].capacityBytes == 143_771 * 1_048_576)
        #expect(throws: HardwareError.unknownGPU(index: 8, gpuCount: 8)) { try cluster.gpu(8) }
    }
}
