/// One DualPipe (or DualPipe-V) device's op list, built step by step as the reference `step()` does.
///
/// Phase 0 is the chunk at stage h = min(rank, PP-1-rank), which micro-batches reach first; phase 1 is the
/// chunk at stage PP-1-h. Micro-batches are taken in order per phase; receives and sends are posted where
/// the reference posts them, so deferred sends and early receives keep their positions.
struct DualPipeRankProgram {
    var builder: ScheduleBuilder
    let device: Int
    /// h: the rank's distance from the nearer end of the pipeline (DualPipe) or its index (DualPipe-V).
    let halfRank: Int
    /// H: PP/2, the number of devices from one end to the middle.
    let halfRankCount: Int
    /// Micro-batches per phase (m/2 for DualPipe, m for DualPipe-V).
    let chunksPerPhase: Int
    /// (stage, direction) of phases 0 and 1.
    let phases: [(stage: Int, direction: PipelineDirection)]

    private var forwardCount = [0, 0]
    private var backwardCount = [0, 0]
    private var sentForward = [0, 0]
    private var sentBackward = [0, 0]
    private var receivedForward = [0, 0]
    private var receivedBackward = [0, 0]
    private var weightQueue: [PipelineChunk] = []

    init(
        builder: ScheduleBuilder, device: Int, halfRank: Int, halfRankCount: Int, chunksPerPhase: Int,
        phases: [(stage: Int, direction: PipelineDirection)]
    ) {
        self.builder = builder
        self.device = device
        self.halfRank = halfRank
        self.halfRankCount = halfRankCount
        self.chunksPerPhase = chunksPerPhase
        self.phases = phases
    }

    /// The rank next to the turning point (DualPipe's middle ranks, DualPipe-V's last device).
    private var isTurning: Bool { halfRank == halfRankCount - 1 }
    private var schedule: PipelineSchedule { builder.schedule }

    private func chunk(_ phase: Int, _ microBatch: Int) -> PipelineChunk {
        PipelineChunk(stage: phases[phase].stage, microBatch: microBatch, direction: phases[phase].direction)
    }

    private func isRemote(_ chunk: PipelineChunk) -> Bool {
        schedule.contains(chunk) && schedule.placement(of: chunk) != device
    }

    private mutating func post(_ kind: PipelineOp.Kind) { builder.append(kind, on: device) }

    /// Posts the send (or receive) of `payload` for the phase's next chunk, when it crosses devices.
    private mutating func post(
        _ payload: TransferPayload, send: Bool, _ phase: Int, counter: WritableKeyPath<Self, [Int]>
    ) {
        let own = chunk(phase, self[keyPath: counter][phase])
        let peer = payload == .activation ? own.previous : own.next
        let transfer = PipelineTransfer(payload, of: send ? own : peer)
        guard isRemote(send ? transfer.consumer : peer) else { return }
        post(send ? .send(transfer) : .receive(transfer))
        self[keyPath: counter][phase] += 1
    }

    private mutating func receiveForward(_ phase: Int) {
        post(.activation, send: false, phase, counter: \.receivedForward)
    }
    private mutating func sendForward(_ phase: Int) { post(.activation, send: true, phase, counter: \.sentForward) }
    private mutating func receiveBackward(_ phase: Int) {
        post(.gradient, send: false, phase, counter: \.receivedBackward)
    }
    private mutating func sendBackward(_ phase: Int) { post(.gradient, send: true, phase, counter: \.sentBackward) }

    private mutating func nextForward(_ phase: Int) -> PipelineChunk {
        defer { forwardCount[phase] += 1 }
        return chunk(phase, forwardCount[phase])
    }

    private mutating func nextBackward(_ phase: Int) -> PipelineChunk {
        defer { backwardCount[phase] += 1 }
        return chunk(phase, backwardCount[phase])
    }

    private mutating func forward(_ phase: Int, receive: Bool = true, send: Bool = true) {
        if receive { receiveForward(phase) }
        post(.forward(nextForward(phase)))
        if send { sendForward(phase) }
    }

    /// A backward; with `zeroBubble` only B runs and its W waits in the FIFO, otherwise a full BW.
    private mutating func backward(_ phase: Int, zeroBubble: Bool = false, receive: Bool = true, send: Bool = true) {
        if receive { receiveBackward(phase) }
        let chunk = nextBackward(phase)
        if zeroBubble {
            post(.backwardInput(chunk))
            weightQueue.append(chunk)
        } else {
            post(.backwardFull(chunk))
        }
        if send { sendBackward(phase) }
    }

    /// F&B: the forward of phase `forwardPhase` overlapped with the full backward of `backwardPhase`.
    private mutating func forwardBackward(_ forwardPhase: Int, _ backwardPhase: Int, receiveForward: Bool = true) {
        if receiveForward { self.receiveForward(forwardPhase) }
        receiveBackward(backwardPhase)
        post(.forwardBackward(forward: nextForward(forwardPhase), backward: nextBackward(backwardPhase)))
        sendForward(forwardPhase)
        sendBackward(backwardPhase)
    }

    /// W of the oldest deferred weight gradient; the step counts never pop an empty FIFO.
    private mutating func weight() {
        post(.backwardWeight(weightQueue.removeFirst()))
    }
}

extension DualPipeRankProgram {
    /// Appends the rank's eight phases, with the reference's loop counts.
    mutating func run() {
        let (h, half) = (halfRank, halfRankCount)
        // Step 1: nF0.
        for _ in 0..<(half - h - 1) * 2 { forward(0) }
        // Step 2: nF0F1; the F0 output leaves after F1 except at the turning rank.
        receiveForward(0)
        for i in 0..<(h + 1) {
            forward(0, receive: false, send: isTurning)
            receiveForward(0)
            forward(1, send: !isTurning || i < h)
            if !isTurning { sendForward(0) }
        }
        // Step 3: nB1W1F1, zero bubble.
        for _ in 0..<(half - h - 1) {
            backward(1, zeroBubble: true)
            receiveForward(1)
            weight()
            forward(1, receive: false)
        }
        mainStep()
        // Step 5: nB1F1B0.
        for _ in 0..<(half - h - 1) {
            backward(1)
            forwardBackward(1, 0)
        }
        drain()
    }

    /// Step 4: nF0B1F1B0; the turning rank does not overlap its first pair, to shorten the bubble.
    private mutating func mainStep() {
        for i in 0..<(chunksPerPhase - 2 * halfRankCount + halfRank + 1) {
            if i == 0 && isTurning {
                forward(0, receive: false, send: false)
                sendForward(1)
                backward(1, send: false)
                sendForward(0)
                sendBackward(1)
            } else {
                forwardBackward(0, 1, receiveForward: i > 0)
            }
            forwardBackward(1, 0)
        }
    }

    /// Steps 6 to 8: nB1B0 (the second half zero bubble), nWB0, nW.
    private mutating func drain() {
        let (h, half) = (halfRank, halfRankCount)
        var zeroBubble = false
        for i in 0..<(h + 1) {
            if i == (h + 1) / 2 && h % 2 == 1 { zeroBubble = true }
            backward(1, zeroBubble: zeroBubble)
            if i == (h + 1) / 2 && h % 2 == 0 { zeroBubble = true }
            backward(0, zeroBubble: zeroBubble)
        }
        for _ in 0..<(half - h - 1) {
            weight()
            backward(0, zeroBubble: true)
        }
        for _ in 0..<(h + 1) { weight() }
    }
}
