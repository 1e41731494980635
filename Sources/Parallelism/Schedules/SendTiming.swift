/// When a posted send leaves the device, and what a compute op waits for.
///
/// In both, a send never blocks its sender (the reference's wait on its own sends, which can stall until the
/// peer posts the matching receive, is not modelled) and a message arrives one hop time after it leaves.
public enum SendTiming: String, Sendable, CaseIterable {
    /// As the reference runs (`batch_isend_irecv` then wait, before every compute op): a send leaves when the
    /// device reaches its next communication point after the send was posted, i.e. when the compute op listed
    /// before the send ends; a compute op waits for every receive posted before it, not only its own inputs.
    case reference
    /// A send leaves when the op that produced the message ends; a compute op waits only for its own inputs.
    case eager
}
