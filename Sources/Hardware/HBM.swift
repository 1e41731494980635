/// What an HBM allocation holds, for per-kind accounting.
public enum MemoryKind: String, Sendable, CaseIterable {
    case parameters
    case gradients
    case optimizerState
    case activations
    case commBuffers
}

/// Byte accounting of one GPU's HBM: current and peak bytes per kind and in total, against a capacity.
public struct HBM: Sendable, Equatable {
    /// The GPU's name, used in errors.
    public let gpuName: String
    /// Total capacity in bytes.
    public let capacityBytes: Int
    private var currentByKind = [Int](repeating: 0, count: MemoryKind.allCases.count)
    private var peakByKind = [Int](repeating: 0, count: MemoryKind.allCases.count)
    /// Bytes allocated now, all kinds together.
    public private(set) var usedBytes = 0
    /// The most bytes ever allocated at once, all kinds together.
    public private(set) var peakBytes = 0

    /// Empty HBM of `capacityBytes` on the GPU called `gpuName`.
    public init(gpuName: String, capacityBytes: Int) {
        self.gpuName = gpuName
        self.capacityBytes = capacityBytes
    }

    /// Bytes free now.
    public var freeBytes: Int { capacityBytes - usedBytes }
    /// Bytes of `kind` allocated now.
    public func currentBytes(_ kind: MemoryKind) -> Int { currentByKind[kind.index] }
    /// The most bytes of `kind` ever allocated at once.
    public func peakBytes(_ kind: MemoryKind) -> Int { peakByKind[kind.index] }

    /// Allocates `bytes` of `kind`; throws `outOfMemory` (naming GPU, request and usage) past capacity.
    public mutating func allocate(_ bytes: Int, _ kind: MemoryKind) throws {
        guard bytes >= 0 else {
            throw HardwareError.invalidParameter(name: "allocation size", value: "\(bytes)", reason: "must be >= 0")
        }
        guard bytes <= freeBytes else {
            throw HardwareError.outOfMemory(
                gpu: gpuName, kind: kind, requestedBytes: bytes, usedBytes: usedBytes, capacityBytes: capacityBytes)
        }
        currentByKind[kind.index] += bytes
        peakByKind[kind.index] = max(peakByKind[kind.index], currentByKind[kind.index])
        usedBytes += bytes
        peakBytes = max(peakBytes, usedBytes)
    }

    /// What is inconsistent in the accounting (empty when sound): a negative count, a peak below the current
    /// bytes, a total that is not the sum of the kinds, usage beyond capacity.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        for kind in MemoryKind.allCases {
            let (current, peak) = (currentBytes(kind), peakBytes(kind))
            if current < 0 { problems.append("\(gpuName) HBM \(kind.rawValue): \(current) bytes allocated (negative)") }
            if peak < current {
                problems.append("\(gpuName) HBM \(kind.rawValue): peak \(peak) bytes below the \(current) allocated")
            }
        }
        let sum = currentByKind.reduce(0, +)
        if usedBytes != sum {
            problems.append("\(gpuName) HBM: \(usedBytes) bytes used, but the kinds add up to \(sum)")
        }
        if peakBytes < usedBytes {
            problems.append("\(gpuName) HBM: peak \(peakBytes) bytes below the \(usedBytes) used")
        }
        if peakBytes > peakByKind.reduce(0, +) {
            problems.append("\(gpuName) HBM: peak \(peakBytes) bytes above the sum of the per-kind peaks")
        }
        if usedBytes > capacityBytes {
            problems.append("\(gpuName) HBM: \(usedBytes) bytes used of a \(capacityBytes)-byte capacity")
        }
        return problems
    }

    /// Test-only: corrupts the accounting of `kind`, so tests can see the checks catch it.
    mutating func corruptForTesting(_ kind: MemoryKind, currentBytes: Int) {
        currentByKind[kind.index] = currentBytes
    }

    /// Starts the peaks afresh from what is allocated now (e.g. at the start of a run).
    public mutating func resetPeaks() {
        peakByKind = currentByKind
        peakBytes = usedBytes
    }

    /// Frees `bytes` of `kind`; throws when more than is allocated of that kind.
    public mutating func free(_ bytes: Int, _ kind: MemoryKind) throws {
        guard bytes >= 0, bytes <= currentByKind[kind.index] else {
            throw HardwareError.freeExceedsAllocation(
                gpu: gpuName, kind: kind, requestedBytes: bytes, allocatedBytes: currentByKind[kind.index])
        }
        currentByKind[kind.index] -= bytes
        usedBytes -= bytes
    }
}

extension MemoryKind {
    fileprivate var index: Int {
        switch self {
        case .parameters: 0
        case .gradients: 1
        case .optimizerState: 2
        case .activations: 3
        case .commBuffers: 4
        }
    }
}
