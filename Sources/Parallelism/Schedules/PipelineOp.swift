/// What a message between two devices carries.
public enum TransferPayload: Hashable, Sendable {
    /// A forward activation, from stage s to stage s + 1.
    case activation
    /// An input gradient, from stage s to stage s - 1.
    case gradient
}

/// A message between neighbouring stages, named by the chunk that produces it.
public struct PipelineTransfer: Hashable, Sendable, CustomStringConvertible {
    /// What the message carries.
    public var payload: TransferPayload
    /// The chunk whose F (activation) or B (gradient) produces the message.
    public var producer: PipelineChunk

    /// The message `payload` produced by `producer`.
    public init(_ payload: TransferPayload, of producer: PipelineChunk) {
        self.payload = payload
        self.producer = producer
    }

    /// The chunk that consumes the message.
    public var consumer: PipelineChunk { payload == .activation ? producer.next : producer.previous }

    public var description: String {
        "\(payload == .activation ? "activation" : "gradient") of \(producer)"
    }
}

/// One entry of a device's ordered op list.
public struct PipelineOp: Hashable, Sendable, CustomStringConvertible {
    /// What an op does.
    public enum Kind: Hashable, Sendable {
        /// F: forward of a chunk.
        case forward(PipelineChunk)
        /// B: backward for the inputs; its weight gradient waits in the device's FIFO for a W.
        case backwardInput(PipelineChunk)
        /// W: backward for the weights of the oldest chunk in the device's FIFO.
        case backwardWeight(PipelineChunk)
        /// BW: the full backward (inputs and weights) of a chunk.
        case backwardFull(PipelineChunk)
        /// F&B: DualPipe's pair, the forward of one chunk overlapped with the full backward of another.
        case forwardBackward(forward: PipelineChunk, backward: PipelineChunk)
        /// Posts the send of a message to the neighbouring device.
        case send(PipelineTransfer)
        /// Posts the receive of a message from the neighbouring device.
        case receive(PipelineTransfer)
    }

    /// The device whose list holds the op.
    public var device: Int
    /// What the op does.
    public var kind: Kind

    /// The op `kind` on `device`.
    public init(device: Int, _ kind: Kind) {
        self.device = device
        self.kind = kind
    }

    /// Whether the op computes (as opposed to posting communication).
    public var isCompute: Bool {
        switch kind {
        case .send, .receive: false
        default: true
        }
    }

    /// The short label used in error messages and the Gantt chart: `F`, `B`, `W`, `BW`, `F&B`, `send`, `recv`.
    public var label: String {
        switch kind {
        case .forward: "F"
        case .backwardInput: "B"
        case .backwardWeight: "W"
        case .backwardFull: "BW"
        case .forwardBackward: "F&B"
        case .send: "send"
        case .receive: "recv"
        }
    }

    public var description: String {
        switch kind {
        case .forward(let c), .backwardInput(let c), .backwardWeight(let c), .backwardFull(let c):
            "\(label)(\(c)) on device \(device)"
        case .forwardBackward(let f, let b): "F&B(F \(f); B \(b)) on device \(device)"
        case .send(let t), .receive(let t): "\(label)(\(t)) on device \(device)"
        }
    }
}
