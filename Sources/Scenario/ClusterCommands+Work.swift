import Hardware
import SimCore
import Tensors

extension ClusterCommands {
    func registerWork() {
        session.register(
            Command(
                "send", synopsis: "send from=gpuA to=gpuB size=BYTES [dtype=bf16] [name=NAME] [real]",
                summary: "queue a point-to-point tensor message (run to deliver it)",
                details: [
                    "real: carry actual values and check they arrive bit-identical (default: phantom)",
                    "name=NAME: read it as send[NAME].time|bytes|intact",
                ],
                completionWords: ["real"], argumentKeys: ["from", "to", "size", "dtype", "name"]
            ) { [unowned self] line in try queueSend(line) })
        session.registerValues(command: "send", key: "dtype") { CommandLine.dtypeCompletions() }
        let memoryKeys = ["gpu", "size", "kind"]
        session.register(
            Command(
                "alloc", synopsis: "alloc gpu=N size=BYTES [kind=activations]",
                summary: "allocate HBM on a GPU now (exceeding capacity is an out-of-memory error)",
                argumentKeys: memoryKeys
            ) { [unowned self] line in try changeMemory(line, allocate: true) })
        session.register(
            Command(
                "free", synopsis: "free gpu=N size=BYTES [kind=activations]", summary: "free HBM on a GPU now",
                argumentKeys: memoryKeys
            ) { [unowned self] line in try changeMemory(line, allocate: false) })
        for command in ["alloc", "free"] {
            session.registerValues(command: command, key: "kind") { MemoryKind.allCases.map(\.rawValue) }
        }
        let kernelKeys = ["gpu", "flops", "bytes", "dtype", "partition", "efficiency"]
        session.register(
            Command(
                "kernel",
                synopsis:
                    "kernel gpu=N flops=F [bytes=BYTES dtype=bf16|fp16|fp8 partition=compute|comm efficiency=1.0]",
                summary: "queue a kernel: max(flops / SM rate, bytes / HBM bandwidth) + launch overhead",
                details: [
                    "dtype: the tensor-core rate the FLOPs run at (fp16 runs at the bf16 rate)",
                    "efficiency: fraction of the peak FLOP rate reached, 0 < e <= 1 (default 1.0 = peak)",
                ],
                argumentKeys: kernelKeys
            ) { [unowned self] line in try queueKernel(line, keys: kernelKeys) })
        session.registerValues(command: "kernel", key: "dtype") {
            CommandLine.dtypeCompletions(allowed: Self.kernelDTypes)
        }
        session.registerValues(command: "kernel", key: "partition") { ["compute", "comm"] }
    }

    /// The element types `kernel dtype=` takes: the tensor-core rates (no FP32 rate is modelled).
    static let kernelDTypes: [DType] = [.bf16, .fp16, .fp8e4m3]

    /// `gpuN` or `N` as a GPU index of the cluster.
    func gpuIndex(_ token: Token, in line: CommandLine, cluster: Cluster) throws(ScenarioError) -> Int {
        let digits = token.text.hasPrefix("gpu") ? String(token.text.dropFirst(3)) : token.text
        guard let index = Int(digits), cluster.gpus.indices.contains(index) else {
            throw line.error("no GPU '\(token.text)' (gpu0…gpu\(cluster.gpus.count - 1))", at: token)
        }
        return index
    }

    func gpuArgument(_ key: String, _ line: CommandLine, _ cluster: Cluster) throws(ScenarioError) -> Int {
        guard let token = line.option(key) else { throw line.error("missing argument \(key)=gpuN", at: line.command) }
        return try gpuIndex(token, in: line, cluster: cluster)
    }

    private func queueSend(_ line: CommandLine) throws {
        try line.check(allowedKeys: ["from", "to", "size", "dtype", "name"], maxPositionals: 1)
        let cluster = try requireCluster(line)
        let source = try gpuArgument("from", line, cluster)
        let destination = try gpuArgument("to", line, cluster)
        let real = try realFlag(line)
        let dtype = try line.dtype(default: .bf16)
        let tensor = try messageTensor(line, dtype: dtype, real: real)
        let name = try workName(line)
        let route = try cluster.route(from: GPUID(source), to: GPUID(destination))
        reserve(name)
        let tag = nextTag
        nextTag += 1
        spawnTransfer(tensor, from: cluster.gpus[source], to: cluster.gpus[destination], tag: tag, name: name)
        let label = name.map { "'\($0)': " } ?? ""
        session.output(
            "queued \(label)\(Quantity.format(Double(tensor.byteCount), .bytes)) \(dtype) "
                + "\(real ? "real" : "phantom") message: \(route)")
    }

    private func realFlag(_ line: CommandLine) throws(ScenarioError) -> Bool {
        guard let word = line.positionals.first else { return false }
        guard word.text == "real" else { throw line.error("expected 'real' or nothing, not '\(word.text)'", at: word) }
        return true
    }

    private func messageTensor(_ line: CommandLine, dtype: DType, real: Bool) throws(ScenarioError) -> Tensor {
        let sizeToken = line.option("size") ?? line.command
        let bytes = try line.quantity("size", .bytes)
        let elements = bytes / Double(dtype.bytesPerElement)
        guard elements >= 1, elements == elements.rounded(), elements <= 1e12 else {
            throw line.error(
                "size \(Quantity.format(bytes, .bytes)) is not a whole number of \(dtype) elements "
                    + "(\(dtype.bytesPerElement) bytes each, at least one)", at: sizeToken)
        }
        let count = Int(elements)
        guard !real || count <= 64 * 1_048_576 else {
            throw line.error(
                "real messages are limited to 64 Mi elements; drop 'real' for a phantom one", at: sizeToken)
        }
        var random = session.simulation.random.stream(named: "send\(nextTag)")
        do {
            guard real else { return try Tensor(phantom: [count], dtype: dtype) }
            return try Tensor(
                shape: [count], values: (0..<count).map { _ in Float(random.nextUnitDouble() * 2 - 1) }, dtype: dtype)
        } catch {
            throw line.error(String(describing: error), at: sizeToken)
        }
    }

    private func spawnTransfer(_ tensor: Tensor, from source: GPU, to destination: GPU, tag: Int, name: String?) {
        let simulation = session.simulation
        let start = simulation.now
        guard let log = transfers else { return }
        simulation.spawn(name: "send \(source.name)->\(destination.name) #\(tag)") {
            try await source.send(tensor, to: destination.id, tag: tag)
        }
        simulation.spawn(name: "receive \(source.name)->\(destination.name) #\(tag)") {
            let received = try await destination.receive(from: source.id, tag: tag)
            let record = TransferLog.Record(
                source: source.id.index, destination: destination.id.index, bytes: received.byteCount, start: start,
                end: simulation.now, valuesMatch: received == tensor, name: name)
            await log.append(record)
        }
    }

    private func changeMemory(_ line: CommandLine, allocate: Bool) throws {
        try line.check(allowedKeys: ["gpu", "size", "kind"], maxPositionals: 0)
        let cluster = try requireCluster(line)
        let gpu = cluster.gpus[try gpuArgument("gpu", line, cluster)]
        let bytes = try line.quantity("size", .bytes)
        guard bytes >= 0, bytes < 1e18 else {
            throw line.error("size must be between 0 and 1e18 bytes", at: line.option("size") ?? line.command)
        }
        let kind =
            MemoryKind(rawValue: try line.choice("kind", MemoryKind.allCases.map(\.rawValue), default: "activations"))
            ?? .activations
        do {
            try session.simulation.inspect(gpu) { gpu throws in
                if allocate { try gpu.allocate(Int(bytes), kind) } else { try gpu.free(Int(bytes), kind) }
            }
        } catch {
            throw line.error(String(describing: error), at: line.command)
        }
        let hbm = session.simulation.inspect(gpu) { $0.hbm }
        session.output(
            "\(gpu.name) HBM: \(Quantity.format(Double(hbm.usedBytes), .bytes)) used of "
                + "\(Quantity.format(Double(hbm.capacityBytes), .bytes)), "
                + "peak \(Quantity.format(Double(hbm.peakBytes), .bytes))"
        )
    }

    private func queueKernel(_ line: CommandLine, keys: [String]) throws {
        if let old = line.options.first(where: { $0.key.text == "precision" }) {
            throw line.error("'precision=' is now 'dtype=' (dtype=bf16|fp16|fp8), as in every command", at: old.key)
        }
        try line.check(allowedKeys: keys, maxPositionals: 0)
        let cluster = try requireCluster(line)
        let gpu = cluster.gpus[try gpuArgument("gpu", line, cluster)]
        let precision: Kernel.Precision =
            try line.dtype(allowed: Self.kernelDTypes, default: .bf16) == .fp8e4m3 ? .fp8 : .bf16
        let flops = try line.quantity("flops", .number)
        guard flops >= 0, flops <= 1e24 else {
            throw line.error("flops must be between 0 and 1e24", at: line.option("flops") ?? line.command)
        }
        let bytes = try line.quantity("bytes", .bytes, default: 0)
        guard bytes >= 0, bytes <= 1e18 else {
            throw line.error("bytes must be between 0 and 1e18", at: line.option("bytes") ?? line.command)
        }
        let kernel = Kernel(
            name: "kernel", flops: flops, hbmBytes: Int(bytes), precision: precision,
            efficiency: try line.quantity("efficiency", .number, default: 1))
        do {
            try kernel.validate()
        } catch {
            throw line.error("invalid kernel: \(error)", at: line.command)
        }
        let partition =
            try line.choice("partition", ["compute", "comm"], default: "compute") == "comm" ? gpu.comm : gpu.compute
        let time = session.simulation.inspect(partition) { $0.duration(of: kernel) }
        guard time <= SMPartition.longestKernel else {
            throw line.error("the kernel would run \(time), longer than \(SMPartition.longestKernel)", at: line.command)
        }
        session.simulation.spawn(name: "kernel on \(gpu.name)") { try await partition.run(kernel) }
        session.output("queued kernel on \(gpu.name) \(partition.role.rawValue): \(time)")
    }
}
