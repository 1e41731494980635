/// A pipeline schedule as data: where each stage lives and, per device, the ordered list of its ops.
public struct PipelineSchedule: Sendable {
    /// The schedule's name, e.g. `1F1B`.
    public var name: String
    /// The number of model stages (PP).
    public var stageCount: Int
    /// The number of micro-batches entering in each direction.
    public var microBatchesPerDirection: Int
    /// `stageDevices[direction.rawValue][stage]` is the device that runs `stage` for that direction.
    public var stageDevices: [[Int]]
    /// `devices[d]` is device d's ops in execution order.
    public var devices: [[PipelineOp]]

    /// An empty schedule over `deviceCount` devices; `stageDevices` has one row per direction, `.down` first.
    public init(name: String, stageDevices: [[Int]], microBatchesPerDirection: Int, deviceCount: Int) {
        self.name = name
        self.stageCount = stageDevices.map(\.count).min() ?? 0
        self.microBatchesPerDirection = microBatchesPerDirection
        self.stageDevices = stageDevices
        self.devices = Array(repeating: [], count: deviceCount)
    }

    /// The directions micro-batches travel in.
    public var directions: [PipelineDirection] {
        PipelineDirection.allCases.filter { $0.rawValue < stageDevices.count }
    }
    /// The number of devices.
    public var deviceCount: Int { devices.count }
    /// The number of micro-batches over all directions (m).
    public var microBatchCount: Int { microBatchesPerDirection * stageDevices.count }

    /// The device that runs `chunk`; throws for a stage or direction the schedule does not have.
    public func device(of chunk: PipelineChunk) throws -> Int {
        guard chunk.direction.rawValue < stageDevices.count else {
            throw ScheduleValidationError(
                "\(name) has no direction \(chunk.direction) (\(stageDevices.count) direction(s)) for \(chunk)")
        }
        guard (0..<stageCount).contains(chunk.stage) else {
            throw ScheduleValidationError(
                "\(name) has no stage \(chunk.stage) (stages 0..<\(stageCount)) for \(chunk)")
        }
        return placement(of: chunk)
    }

    /// The device of a chunk whose stage and direction are known to exist (generators and the validator check
    /// first, with `contains`).
    func placement(of chunk: PipelineChunk) -> Int { stageDevices[chunk.direction.rawValue][chunk.stage] }

    /// Every chunk the schedule must compute, ordered by direction, micro-batch, stage.
    public var allChunks: [PipelineChunk] {
        directions.flatMap { direction in
            (0..<microBatchesPerDirection).flatMap { microBatch in
                (0..<stageCount).map { PipelineChunk(stage: $0, microBatch: microBatch, direction: direction) }
            }
        }
    }

    /// How many stages' parameters `device` holds (1 for 1F1B, 2 for DualPipe, v for interleaved 1F1B).
    public func parameterCopies(device: Int) -> Int {
        let stages = stageDevices.flatMap { row in row.indices.filter { row[$0] == device } }
        return Set(stages).count
    }

    /// Whether `chunk` names a stage, micro-batch and direction this schedule has.
    func contains(_ chunk: PipelineChunk) -> Bool {
        chunk.direction.rawValue < stageDevices.count && (0..<stageCount).contains(chunk.stage)
            && (0..<microBatchesPerDirection).contains(chunk.microBatch)
    }
}
