import Hardware
import MoEModel

/// DeepGEMM's published H800 FP8 GEMM throughputs for DeepSeek-V3's shapes, as kernel efficiencies.
///
/// A GEMM's efficiency is its published rate over the H800's dense FP8 peak (1979 TFLOP/s, on all 132 SMs); the
/// compute partition then scales it to the SMs it has (112 with 20 for communication). Applied only where a
/// figure is published: FP8 on an H800, normal GEMMs with M = 4096 rows, grouped (contiguous) expert GEMMs with
/// at least 4096 rows per expert, and the (N, K) of the table. Linears of one op that read the same input (the
/// same K) count as one GEMM of their summed N, as DeepSeek fuses MLA's q_a with kv_a (N 2112) and an expert's
/// gate with its up projection. B and W take the figure of the forward GEMM of the same weight (no figure is
/// published for the transposed shapes). Everything else runs at the datasheet peak (efficiency 1, no source).
public enum PublishedGEMMRates {
    /// Where the figures come from.
    public static let source =
        "DeepGEMM README at 8002b76 (2025-03-25): H800 SXM5, NVCC 12.8, M = 4096 normal, 4 × 8192 grouped"
    /// The GPU the figures were measured on.
    public static let gpuName = GPUSpec.h800.name
    /// The rows (M) of the normal GEMMs measured.
    public static let normalRows = 4096
    /// The fewest rows per expert of the grouped GEMMs measured.
    public static let groupedRowsPerExpert = 4096
    /// Normal FP8 GEMMs at M = 4096: (N, K) and TFLOP/s.
    static let normal: [(n: Int, k: Int, teraFLOPS: Double)] = [
        (2112, 7168, 1009), (24576, 1536, 1125), (32768, 512, 751), (7168, 16384, 1426), (4096, 7168, 1265),
        (7168, 2048, 1168),
    ]
    /// Grouped contiguous FP8 GEMMs (4 groups × 8192 rows and 8 × 4096 measure the same): (N, K) and TFLOP/s.
    static let grouped: [(n: Int, k: Int, teraFLOPS: Double)] = [(4096, 7168, 1346), (7168, 2048, 1214)]

    /// The published efficiency of an FP8 GEMM of `rows` × K → N on an H800, or nil where none is published;
    /// `grouped`: an expert GEMM over `rows` rows per expert.
    public static func efficiency(n: Int, k: Int, rows: Int, grouped: Bool) -> Double? {
        let table = grouped ? Self.grouped : normal
        let measuredRows = grouped ? rows >= groupedRowsPerExpert : rows == normalRows
        guard measuredRows, let entry = table.first(where: { $0.n == n && $0.k == k }) else { return nil }
        return entry.teraFLOPS * 1e12 / peakFLOPS
    }

    /// The efficiency of `op`'s linear GEMMs together: Σ f / Σ (f / e) over its fused GEMMs (f their FLOPs, e
    /// their published efficiency or 1), so one kernel takes as long as the GEMMs one after another. A cost-model
    /// op of routed experts (a whole layer's experts on one GPU) is not matched: the EP layer applies the grouped
    /// figures to the rows each rank receives.
    public static func efficiency(of op: OpCost) -> Double {
        guard op.kind != .routedExperts else { return 1 }
        var fused: [LinearShape] = []
        for shape in op.linearShapes {
            if let index = fused.firstIndex(where: { $0.input == shape.input && $0.rows == shape.rows }) {
                fused[index].output += shape.output
            } else {
                fused.append(shape)
            }
        }
        var flops = 0.0
        var peakSeconds = 0.0
        for gemm in fused {
            let gemmFLOPs = 2 * Double(gemm.rows) * Double(gemm.input) * Double(gemm.output)
            flops += gemmFLOPs
            peakSeconds += gemmFLOPs / (efficiency(n: gemm.output, k: gemm.input, rows: gemm.rows, grouped: false) ?? 1)
        }
        return peakSeconds > 0 ? flops / peakSeconds : 1
    }

    /// Whether the figures describe `spec` (an H800).
    public static func applies(to spec: GPUSpec) -> Bool { spec.name == gpuName }

    /// The H800's dense FP8 peak on all its SMs (FLOP/s).
    static var peakFLOPS: Double { Double(GPUSpec.h800.smCount) * GPUSpec.h800.flopsPerSecondPerSM(.fp8) }
}
