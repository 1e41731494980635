import Tensors

/// The one element-type vocabulary every command takes: `dtype=fp32|bf16|fp16|fp8` (`fp8e4m3` is an alias).
extension CommandLine {
    /// The names `dtype=` accepts, in help order, with the type each stands for.
    static let dtypeNames: [(name: String, dtype: DType)] = [
        ("fp32", .fp32), ("bf16", .bf16), ("fp16", .fp16), ("fp8", .fp8e4m3), ("fp8e4m3", .fp8e4m3),
    ]
    /// One line for help.
    static let dtypeHelp = "dtype= takes fp32, bf16, fp16 or fp8 (alias fp8e4m3); kernel takes bf16, fp16 or fp8 only"

    /// The `dtype=` values Tab offers, from `dtypeNames` (without the alias).
    static func dtypeCompletions(allowed: [DType] = DType.allCases) -> [String] {
        dtypeNames.filter { allowed.contains($0.dtype) && $0.name != "fp8e4m3" }.map(\.name)
    }

    /// The element type given for `key`, one of `allowed`, or `defaultValue` when absent; the error on the value.
    public func dtype(_ key: String = "dtype", allowed: [DType] = DType.allCases, default defaultValue: DType)
        throws(ScenarioError) -> DType
    {
        guard let token = option(key) else { return defaultValue }
        let names = Self.dtypeNames.filter { allowed.contains($0.dtype) }
        guard let match = names.first(where: { $0.name == token.text.lowercased() }) else {
            let listed = names.map(\.name).filter { $0 != "fp8e4m3" }.joined(separator: ", ")
            throw error("'\(token.text)' is not valid for \(key) (one of \(listed))", at: token)
        }
        return match.dtype
    }
}
