import Hardware
import SimCore

extension FaultCommands {
    /// The most faults one `fault random` draws.
    static let maxRandomFaults = 1_000

    /// `fault random [count=N] [until=T]`: N faults drawn from the session's seed, each active for a random
    /// window inside now…T (default: now + 1 ms), so every one ends by itself: links down or degraded to
    /// 10–99 %, GPUs 1.5–4x slower. The same seed draws the same faults.
    func performRandomFaults(_ line: CommandLine, cluster: Cluster) throws(ScenarioError) {
        if let extra = line.options.first(where: { !["count", "until"].contains($0.key.text) }) {
            throw line.error("'fault random' takes count=N and until=T", at: extra.key)
        }
        let count = try line.integer("count", in: 1...Self.maxRandomFaults, default: 1)
        let now = session.simulation.now
        var end = now + .milliseconds(1)
        if let token = line.option("until") {
            let nanoseconds = try line.quantity(of: token, .time)
            guard nanoseconds < 9e18, nanoseconds > Double(now.nanosecondsSinceStart) else {
                throw line.error("until=\(token.text) must come after now (\(now))", at: token)
            }
            end = .start + SimDuration(nanoseconds: Int64(nanoseconds.rounded()))
        }
        let spanNs = end.nanosecondsSinceStart - now.nanosecondsSinceStart
        var random = session.simulation.random.stream(named: "faults\(randomDraws)")
        randomDraws += 1
        for _ in 0..<count {
            let startOffset = Int64(random.nextInt(below: Int(spanNs)))
            let length = 1 + Int64(random.nextInt(below: Int(spanNs - startOffset)))
            let start = now + .nanoseconds(startOffset)
            let fault: Fault
            switch random.nextInt(below: 3) {
            case 0: fault = .linkDown(link: cluster.links[random.nextInt(below: cluster.links.count)].name)
            case 1:
                let link = cluster.links[random.nextInt(below: cluster.links.count)].name
                fault = .linkDegraded(link: link, fraction: Double(10 + random.nextInt(below: 90)) / 100)
            default:
                let gpu = random.nextInt(below: cluster.gpus.count)
                fault = .gpuSlow(gpu: gpu, factor: 1.5 + Double(random.nextInt(below: 6)) / 2)
            }
            do {
                let id = try cluster.inject(fault, from: start, until: start + .nanoseconds(length))
                if let record = cluster.faults.first(where: { $0.id == id }) { session.output("fault \(record)") }
            } catch {
                throw line.error(String(describing: error), at: line.command)
            }
        }
    }
}
