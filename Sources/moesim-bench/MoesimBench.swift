import ArgumentParser

/// `moesim-bench`: release-mode benchmarks, one subcommand per layer.
@main
struct MoesimBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moesim-bench",
        abstract: "Benchmarks of moesim's layers (build with -c release).",
        subcommands: [
            CollectivesBenchmark.self,
            EPBenchmark.self,
            WavedEPBenchmark.self,
            CoreBenchmark.self,
            Dsv3Benchmark.self,
            FabricBenchmark.self,
            ModelBenchmark.self,
            PipelineBenchmark.self,
            ScheduleBenchmark.self,
            TrainBenchmark.self,
            ZeroBenchmark.self,
        ]
    )
}
