import ArgumentParser
import MoEModel
import Tensors

/// `moesim-bench model`: matmul throughput and the wall time of one reference training step.
struct ModelBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model", abstract: "Matmul GFLOP/s and one training step of a small MoE model (one core).")

    @Option(help: "Square matmul sizes to measure.") var sizes: [Int] = [256, 1024]
    @Option(help: "Training steps to time (the fastest is reported).") var steps = 3
    @Option(help: "Tokens per training step.") var tokens = 512
    @Option(help: "Tokens per sequence.") var sequenceLength = 128

    /// Rejects sizes, counts and lengths that would divide by zero or index an empty matrix.
    func validate() throws {
        if let size = sizes.first(where: { $0 < 1 }) {
            throw ValidationError("--sizes must all be at least 1, got \(size)")
        }
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1, got \(steps)") }
        guard sequenceLength >= 1 else {
            throw ValidationError("--sequence-length must be at least 1, got \(sequenceLength)")
        }
        guard tokens >= sequenceLength, tokens % sequenceLength == 0 else {
            throw ValidationError(
                "--tokens must be a positive multiple of --sequence-length \(sequenceLength), got \(tokens)")
        }
    }

    func run() throws {
        for size in sizes { try measureMatmul(size: size) }
        try measureTrainingStep()
    }

    /// Repeats an n x n x n product for at least half a second and reports the best GFLOP/s.
    private func measureMatmul(size: Int) throws {
        var generator = SplitMix64(seed: 1)
        let a = try Tensor(shape: [size, size], values: (0..<(size * size)).map { _ in generator.nextNormal() })
        let b = try Tensor(shape: [size, size], values: (0..<(size * size)).map { _ in generator.nextNormal() })
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000)
        var spent = Duration.zero
        var product = a
        while spent < .milliseconds(500) {
            let start = clock.now
            product = try a.matmul(b)
            let elapsed = clock.now - start
            best = min(best, elapsed)
            spent += elapsed
        }
        let gflops = Double(Tensor.matmulFLOPs(m: size, k: size, n: size)) / Self.seconds(best) / 1e9
        print(
            "matmul \(size)x\(size)x\(size): \(Self.format(gflops)) GFLOP/s (best of runs; c[0] = \(try product.scalars()[0]))"
        )
    }

    /// Times forward, full backward and AdamW on hidden 256, 4 layers (1 dense), 16 experts top-2.
    private func measureTrainingStep() throws {
        let config = MoEConfig(
            vocabularySize: 1024, hiddenSize: 256, layerCount: 4, headCount: 4, routedExpertCount: 16,
            sharedExpertCount: 1, topK: 2, expertWidth: 256, denseWidth: 1024, denseLayerCount: 1, gateKind: .sigmoid)
        let training = TrainingConfig(
            seed: 1, steps: steps, microBatchesPerStep: 1, sequencesPerMicroBatch: tokens / sequenceLength,
            sequenceLength: sequenceLength)
        var trainer = try ReferenceTrainer(config: config, training: training)
        let clock = ContinuousClock()
        var best = Duration.seconds(1_000)
        for _ in 0..<steps {
            let start = clock.now
            let loss = try trainer.step()
            best = min(best, clock.now - start)
            print("  step loss \(loss)")
        }
        let costs = try CostModel(config: config, tokens: tokens, sequenceLength: sequenceLength, dtype: .fp32)
        let gflops = Double(costs.totalFLOPs) / Self.seconds(best) / 1e9
        print(
            "training step (hidden 256, 4 layers, 16 experts top-2, \(tokens) tokens, "
                + "\(trainer.parameters.elementCount) parameters): \(Self.format(Self.seconds(best) * 1000)) ms, "
                + "\(Self.format(gflops)) GFLOP/s of matmul work")
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    private static func format(_ value: Double) -> String {
        String(Double(Int(value * 10)) / 10)
    }
}
