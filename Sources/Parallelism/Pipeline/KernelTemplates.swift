import Hardware

/// The kernels of each part of a stage's ops, built from the cost model once per run and named per op by
/// `StageCompute.kernels` (every op of every GPU asks again, per layer).
///
/// Confined to the simulation's executor like the workers that share it: only their processes, on that one
/// thread, read and fill it, so it needs no isolation of its own.
final class KernelTemplates: @unchecked Sendable {
    /// One part of one layer range's ops in one selection.
    struct Key: Hashable {
        let part: StageCompute.Part
        let layers: Range<Int>
        let selection: StageCompute.OpSelection
    }

    private var kernelsByKey: [Key: [Kernel]] = [:]  // lookup only, never iterated

    /// The kernels of `key`, from `build` the first time.
    func kernels(_ key: Key, build: () -> [Kernel]) -> [Kernel] {
        if let kernels = kernelsByKey[key] { return kernels }
        let kernels = build()
        kernelsByKey[key] = kernels
        return kernels
    }
}
