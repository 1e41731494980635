/// A named MoE layer shape for the `moe` command and the Waved-EP benchmark.
public struct EPShapePreset: Sendable, Hashable {
    public let name: String
    public let hiddenSize: Int
    /// Intermediate width of each routed expert.
    public let expertWidth: Int
    public let expertCount: Int
    public let topK: Int

    /// DeepSeek-V4-Flash's MoE layer (REFERENCES.md, Waved-EP): 256 experts, top-6, hidden 4096, width 2048.
    public static let v4Flash = EPShapePreset(
        name: "v4-flash", hiddenSize: 4096, expertWidth: 2048, expertCount: 256, topK: 6)
    /// DeepSeek-V4-Pro's MoE layer: 384 experts, top-6, hidden 7168, width 3072.
    public static let v4Pro = EPShapePreset(
        name: "v4-pro", hiddenSize: 7168, expertWidth: 3072, expertCount: 384, topK: 6)

    /// The presets in a fixed order.
    public static let all = [v4Flash, v4Pro]

    /// The preset called `name`, or nil.
    public static func named(_ name: String) -> EPShapePreset? { all.first { $0.name == name } }
}
