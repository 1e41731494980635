/// Assigns trace tracks to timeline lanes and orders the lanes: other actors first, then per GPU its compute
/// SMs, comm SMs (comm kernels and the `comm.out` push), its other lanes, then (with links) NVLink out and in,
/// IB out and in; switch uplinks last.
struct TimelineLayout {
    private struct Slot {
        var lane: TimelineLane
        var key: (section: Int, gpu: Int, order: Int, discovery: Int)
    }

    let selection: TimelineSelection
    private var slots: [Slot] = []
    private var slotIndex: [String: Int] = [:]  // lookup only, never iterated
    /// Selected GPUs as a membership table (nil: all).
    private let chosen: [Bool]?

    init(selection: TimelineSelection) {
        self.selection = selection
        if let gpus = selection.gpus {
            var table = [Bool](repeating: false, count: (gpus.max() ?? 0) + 1)
            for gpu in gpus where gpu >= 0 { table[gpu] = true }
            chosen = table
        } else {
            chosen = nil
        }
    }

    private func isChosen(_ gpu: Int) -> Bool {
        guard let chosen else { return true }
        return gpu < chosen.count && chosen[gpu]
    }

    /// The slot of track (`actor`, `lane`), or nil when the timeline leaves it out.
    mutating func lane(actor: String, lane: String) -> Int? {
        if let gpu = Self.gpuIndex(actor), actor == "gpu\(gpu)" {
            guard isChosen(gpu) else { return nil }
            switch lane {
            case "compute": return slot(gpu: gpu, order: 0, label: "compute SMs", kind: .compute)
            case "comm", "comm.out": return slot(gpu: gpu, order: 1, label: "comm SMs", kind: .comm)
            case "sends": return nil
            case "nvlink.out": return linkSlot(gpu: gpu, order: 3, label: "NVLink out")
            default:
                if selection.isLink(actor: actor, lane: lane) { return linkSlot(gpu: gpu, order: 7, label: lane) }
                return slot(gpu: gpu, order: 2, label: lane, kind: .other)
            }
        }
        if selection.isLink(actor: actor, lane: lane) { return switchLink(actor: actor, lane: lane) }
        return otherSlot(actor: actor, lane: lane)
    }

    private mutating func switchLink(actor: String, lane: String) -> Int? {
        let perNode = max(1, selection.gpusPerNode)
        if actor.hasSuffix(".nic"), let gpu = Self.gpuIndex(actor) {
            return isChosen(gpu) ? linkSlot(gpu: gpu, order: 5, label: "IB out") : nil
        }
        if actor.hasPrefix("node"), actor.hasSuffix(".nvswitch"), lane.hasPrefix("port"), lane.hasSuffix(".out"),
            let node = Int(actor.dropFirst(4).prefix { $0.isNumber }),
            let port = Int(lane.dropFirst(4).prefix { $0.isNumber })
        {
            let gpu = node * perNode + port
            return isChosen(gpu) ? linkSlot(gpu: gpu, order: 4, label: "NVLink in") : nil
        }
        if actor.hasPrefix("leaf"), lane.hasPrefix("down"), let rail = Int(actor.dropFirst(4)),
            let node = Int(lane.dropFirst(4))
        {
            let gpu = node * perNode + rail
            return isChosen(gpu) ? linkSlot(gpu: gpu, order: 6, label: "IB in") : nil
        }
        guard selection.includesLinks, selection.gpus == nil else { return nil }
        return make("fabric:\(actor).\(lane)", TimelineLane(group: actor, label: lane, kind: .link), (2, 0, 0))
    }

    private mutating func slot(gpu: Int, order: Int, label: String, kind: TimelineLane.Kind) -> Int {
        make("gpu\(gpu):\(order):\(label)", TimelineLane(group: "gpu\(gpu)", label: label, kind: kind), (1, gpu, order))
    }

    private mutating func linkSlot(gpu: Int, order: Int, label: String) -> Int? {
        guard selection.includesLinks else { return nil }
        return slot(gpu: gpu, order: order, label: label, kind: .link)
    }

    private mutating func otherSlot(actor: String, lane: String) -> Int {
        make("other:\(actor).\(lane)", TimelineLane(group: actor, label: lane, kind: .other), (0, 0, 0))
    }

    private mutating func make(_ key: String, _ lane: TimelineLane, _ sort: (Int, Int, Int)) -> Int {
        if let existing = slotIndex[key] { return existing }
        slots.append(Slot(lane: lane, key: (sort.0, sort.1, sort.2, slots.count)))
        slotIndex[key] = slots.count - 1
        return slots.count - 1
    }

    /// The lanes in display order.
    func orderedLanes() -> [TimelineLane] { sortedSlotIndices().map { slots[$0].lane } }

    /// For each slot, its index in `orderedLanes()`.
    func displayPositions() -> [Int] {
        var position = [Int](repeating: 0, count: slots.count)
        for (display, slot) in sortedSlotIndices().enumerated() { position[slot] = display }
        return position
    }

    private func sortedSlotIndices() -> [Int] {
        slots.indices.sorted {
            let a = slots[$0].key
            let b = slots[$1].key
            return (a.section, a.gpu, a.order, a.discovery) < (b.section, b.gpu, b.order, b.discovery)
        }
    }

    /// N for an actor called `gpuN` or `gpuN.something`.
    static func gpuIndex(_ actor: String) -> Int? {
        guard actor.hasPrefix("gpu") else { return nil }
        let digits = actor.dropFirst(3).prefix { $0.isNumber }
        guard !digits.isEmpty, actor.dropFirst(3 + digits.count).first.map({ $0 == "." }) ?? true else { return nil }
        return Int(digits)
    }
}
