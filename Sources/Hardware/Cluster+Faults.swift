import SimCore

/// The faults injected into one cluster and the processes that start and end the timed ones.
///
/// Confined to the simulation's executor: the driver changes it between steps, fault processes while it runs.
final class FaultRegistry: @unchecked Sendable {
    var records: [FaultRecord] = []
    /// The process of each timed fault, by record index (nil once it is not needed).
    var processes: [ProcessID?] = []
    var nextID = 1
    /// The trace lane where each fault's start and end is an instant.
    var track: TraceTrackID?
}

extension Cluster {
    /// Every fault injected and not cleared, in injection order; call between steps.
    public var faults: [FaultRecord] { faultRegistry.records }

    /// Injects `fault` from `start` (nil or now: at once) until `end` (nil: until `clearFaults`); call from the
    /// driver between steps. Throws naming an unknown link or GPU, a factor out of range, or a bad window.
    @discardableResult
    public func inject(_ fault: Fault, from start: SimInstant? = nil, until end: SimInstant? = nil) throws -> Int {
        try validate(fault)
        let now = simulation.now
        let startTime = start ?? now
        guard startTime >= now else {
            throw HardwareError.invalidParameter(
                name: "fault start", value: "\(startTime)", reason: "is in the past (now \(now))")
        }
        if let end, end <= startTime {
            throw HardwareError.invalidParameter(
                name: "fault end", value: "\(end)", reason: "must come after its start \(startTime)")
        }
        let registry = faultRegistry
        let id = registry.nextID
        registry.nextID += 1
        registry.records.append(FaultRecord(id: id, fault: fault, start: startTime, end: end))
        registry.processes.append(nil)
        if startTime == now { simulation.executor.drive { setActive(id, true) } }
        guard startTime > now || end != nil else { return id }
        let clock = simulation.clock
        let process = simulation.spawn(name: "fault #\(id): \(fault)") { [self] in
            do {
                if startTime > now {
                    try await clock.sleep(until: startTime)
                    setActive(id, true)
                }
                if let end {
                    try await clock.sleep(until: end)
                    setActive(id, false)
                }
            } catch {
                return  // cancelled by clearFaults
            }
        }
        registry.processes[registry.processes.count - 1] = process
        return id
    }

    /// Ends every fault at once (links up at full speed, GPUs at spec speed) and forgets them, cancelling the
    /// timed ones; call from the driver between steps.
    public func clearFaults() {
        let registry = faultRegistry
        let records = registry.records
        for process in registry.processes.compactMap({ $0 }) { simulation.cancel(process) }
        registry.records.removeAll()
        registry.processes.removeAll()
        simulation.executor.drive { for record in records { refresh(record.fault) } }
    }

    /// Whether the link called `name` is up, and the fraction of its bandwidth it runs at; between steps.
    public func linkState(named name: String) throws -> (isUp: Bool, bandwidthFactor: Double) {
        let link = try link(named: name)
        return simulation.inspect(link) { ($0.isUp, $0.bandwidthFactor) }
    }

    /// Lines for a deadlock report: the down links that hold messages, and what they hold.
    func downLinkNotes() -> [String] {
        guard fabric.downLinkCount > 0 else { return [] }
        var notes: [String] = []
        for link in links where !link.assumeIsolated({ $0.isUp }) {
            let held = link.assumeIsolated { $0.held }
            guard held.chunks > 0 else { continue }
            let labels = held.transfers.prefix(4).map(\.label).joined(separator: ", ")
            let more = held.transfers.count > 4 ? " and \(held.transfers.count - 4) more" : ""
            notes.append(
                "link \(link.name) is down and holds \(held.chunks) chunk(s) of \(held.transfers.count) "
                    + "message(s): \(labels)\(more)")
        }
        return notes
    }

    private func validate(_ fault: Fault) throws {
        switch fault {
        case .linkDown(let name):
            _ = try link(named: name)
        case .linkDegraded(let name, let fraction):
            let rate = simulation.inspect(try link(named: name)) { $0.bytesPerSecond }
            guard fraction > 0, fraction <= 1, rate * fraction >= HardwareError.minimumBytesPerSecond else {
                throw HardwareError.invalidParameter(
                    name: "degrade of \(name)", value: Fault.percent(fraction),
                    reason: "must be above 0% and at most 100%, leaving at least 1 MB/s")
            }
        case .gpuSlow(let index, let factor):
            _ = try gpu(index)
            guard factor >= 1, factor <= Fault.maxSlowdown else {
                throw HardwareError.invalidParameter(
                    name: "slowdown of gpu\(index)", value: Fault.number(factor),
                    reason: "must be between 1 and \(Fault.number(Fault.maxSlowdown))")
            }
        }
    }

    /// Marks fault `id` in or out of effect and updates the hardware it touches.
    private func setActive(_ id: Int, _ active: Bool) {
        let registry = faultRegistry
        guard let index = registry.records.firstIndex(where: { $0.id == id }) else { return }
        registry.records[index].isActive = active
        if !active {
            registry.records[index].hasEnded = true
            registry.processes[index] = nil
        }
        let track = registry.track ?? simulation.trace.track(actor: "faults", lane: "faults")
        registry.track = track
        simulation.trace.instant(
            track, (active ? "start " : "end ") + "#\(id) \(registry.records[index].fault)", at: simulation.now,
            args: [:])
        refresh(registry.records[index].fault)
    }

    /// Brings the state of what `fault` touches in line with the faults in effect now.
    private func refresh(_ fault: Fault) {
        switch fault {
        case .linkDown(let name), .linkDegraded(let name, _):
            if let link = try? link(named: name) { refresh(link) }
        case .gpuSlow(let index, _):
            guard let gpu = try? gpu(index) else { return }
            let factor = slowdown(ofGPU: index)
            gpu.compute.assumeIsolated { $0.setSlowdown(factor) }
            gpu.comm.assumeIsolated { $0.setSlowdown(factor) }
            refresh(gpu.commOut)
        }
    }

    /// Sets `link` up or down and its bandwidth factor from the faults in effect (and its GPU's slowdown for a
    /// `comm.out` link).
    private func refresh(_ link: Link) {
        var down = false
        var fraction = 1.0
        for record in faultRegistry.records where record.isActive {
            switch record.fault {
            case .linkDown(let name) where name == link.name: down = true
            case .linkDegraded(let name, let value) where name == link.name: fraction = min(fraction, value)
            default: break
            }
        }
        if let gpu = gpus.firstIndex(where: { $0.commOut === link }) { fraction /= slowdown(ofGPU: gpu) }
        fraction = max(fraction, HardwareError.minimumBytesPerSecond / link.assumeIsolated { $0.bytesPerSecond })
        // The fraction was validated when the faults were injected; the floor above keeps it valid combined.
        try? link.assumeIsolated { try $0.setBandwidthFactor(min(1, fraction)) }
        fabric.setLink(link, up: !down)
    }

    private func slowdown(ofGPU index: Int) -> Double {
        faultRegistry.records.filter(\.isActive).reduce(1.0) { worst, record in
            if case .gpuSlow(let gpu, let factor) = record.fault, gpu == index { return max(worst, factor) }
            return worst
        }
    }
}
