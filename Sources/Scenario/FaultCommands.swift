import Hardware
import SimCore

/// `fault`, `show faults` and `check`: what-if faults on the session's cluster, and the conservation checks
/// that also run after every `run` and `step`.
final class FaultCommands {
    unowned let session: ScenarioSession
    unowned let clusterCommands: ClusterCommands
    static let argumentNames = ["link", "gpu", "degrade", "slow", "at", "until", "count"]
    /// `fault random` lines so far: each draws from its own random stream.
    var randomDraws = 0

    init(session: ScenarioSession, clusterCommands: ClusterCommands) {
        self.session = session
        self.clusterCommands = clusterCommands
        session.register(
            Command(
                "fault",
                synopsis:
                    "fault link=NAME down|degrade=P% | gpu=N slow=X [at=T] [until=T] | fault clear | fault random [count=N] [until=T]",
                summary: "inject a fault: a link down or degraded, a straggler GPU; 'fault clear' ends them all",
                details: [
                    "link=NAME down     nothing crosses the link: messages take a detour (another spine, PXN,",
                    "                   IB instead of NVLink) when there is one, else wait; a run that can go",
                    "                   no further stops 'blocked', naming the link and who waits",
                    "link=NAME degrade=P%  the link runs at P % of its bandwidth",
                    "gpu=N slow=X       its kernels take X times longer and its comm SMs push X times slower",
                    "at=T until=T       absolute times: start later, end by itself (default: now, for good)",
                    "random count=N until=T  N faults drawn from the seed, each in a random window before T",
                    "                   (default 1 ms from now) and ending by itself: a seeded fault swarm",
                    "see 'show faults'; link names as in 'show links' and 'show route'",
                ],
                completionWords: ["down", "clear", "random"], argumentKeys: Self.argumentNames
            ) { [unowned self] line in try performFault(line) })
        session.registerValues(command: "fault", key: "link") { [unowned self] in
            self.clusterCommands.cluster?.links.map(\.name) ?? []
        }
        session.registerShow(
            Command("faults", synopsis: "show faults", summary: "injected faults and the links and GPUs they hold") {
                [unowned self] line in try showFaults(line)
            })
        session.register(
            Command(
                "check", synopsis: "check",
                summary: "conservation checks (bytes in = out per link, each message delivered once, HBM sound)",
                details: ["they also run after every run and step; a failure names what broke"]
            ) { [unowned self] line in
                try line.check(allowedKeys: [], maxPositionals: 0)
                let cluster = try self.clusterCommands.requireCluster(line)
                let report = cluster.checkConservation()
                guard report.holds else { throw line.error(report.description, at: line.command) }
                self.session.output(report.description)
            })
        session.addRunCheck { [unowned self] in
            guard let report = self.clusterCommands.cluster?.checkConservation(), !report.holds else { return nil }
            return report.description
        }
        registerMetrics()
    }

    private func performFault(_ line: CommandLine) throws {
        try line.check(allowedKeys: Self.argumentNames, maxPositionals: 1)
        let cluster = try clusterCommands.requireCluster(line)
        let word = line.positionals.first
        if let word, word.text == "clear" {
            if let extra = line.options.first { throw line.error("'fault clear' takes no arguments", at: extra.key) }
            let count = cluster.faults.count
            cluster.clearFaults()
            session.output("cleared \(count) fault(s): every link up at full speed, every GPU at spec speed")
            return
        }
        if let word, word.text == "random" { return try performRandomFaults(line, cluster: cluster) }
        if let word, word.text != "down" {
            throw line.error("expected 'down', 'clear' or 'random', not '\(word.text)'", at: word)
        }
        if let count = line.options.first(where: { $0.key.text == "count" }) {
            throw line.error("count= goes with 'fault random'", at: count.key)
        }
        let fault = try parseFault(line, down: word, cluster: cluster)
        let (start, end) = try window(line, now: session.simulation.now)
        let id: Int
        do {
            id = try cluster.inject(fault, from: start, until: end)
        } catch {
            throw line.error(String(describing: error), at: line.command)
        }
        guard let record = cluster.faults.first(where: { $0.id == id }) else { return }
        session.output("fault \(record)")
    }

    private func parseFault(_ line: CommandLine, down: Token?, cluster: Cluster) throws(ScenarioError) -> Fault {
        let (linkToken, gpuToken) = (line.option("link"), line.option("gpu"))
        if let linkToken, let gpuToken {
            throw line.error(
                "a fault is on a link or a GPU, not both", at: gpuToken.column > linkToken.column ? gpuToken : linkToken
            )
        }
        if let gpuToken {
            if let down { throw line.error("'down' is for links; a GPU takes slow=X", at: down) }
            if let degrade = line.option("degrade") {
                throw line.error("degrade= is for links; a GPU takes slow=X", at: degrade)
            }
            let index = try clusterCommands.gpuIndex(gpuToken, in: line, cluster: cluster)
            guard let slowToken = line.option("slow") else {
                throw line.error("missing slow=X: how many times slower gpu\(index) runs (e.g. slow=2)", at: gpuToken)
            }
            let text = slowToken.text.hasSuffix("x") ? String(slowToken.text.dropLast()) : slowToken.text
            let factor = try line.quantity(
                of: Token(text: text, column: slowToken.column, length: slowToken.length, isQuoted: false), .number)
            guard factor >= 1, factor <= Fault.maxSlowdown else {
                throw line.error("slow must be between 1 and \(Int(Fault.maxSlowdown)) (times slower)", at: slowToken)
            }
            return .gpuSlow(gpu: index, factor: factor)
        }
        guard let linkToken else {
            throw line.error("missing link=NAME or gpu=N (or 'fault clear')", at: line.command)
        }
        if let slow = line.option("slow") {
            throw line.error("slow= is for GPUs; a link takes down or degrade=P%", at: slow)
        }
        guard (try? cluster.link(named: linkToken.text)) != nil else {
            throw line.error("no link named '\(linkToken.text)' (see 'show route' or 'list metrics')", at: linkToken)
        }
        switch (down, line.option("degrade")) {
        case (.some, .some(let degrade)):
            throw line.error("a link is either down or degraded, not both", at: degrade)
        case (.some, nil):
            return .linkDown(link: linkToken.text)
        case (nil, .some(let degrade)):
            guard degrade.text.hasSuffix("%") else {
                throw line.error("degrade takes a percentage of the bandwidth, e.g. degrade=50%", at: degrade)
            }
            let percent = try line.quantity(
                of: Token(
                    text: String(degrade.text.dropLast()), column: degrade.column, length: degrade.length - 1,
                    isQuoted: false),
                .number)
            guard percent > 0, percent <= 100 else {
                throw line.error("degrade must be above 0% and at most 100%", at: degrade)
            }
            return .linkDegraded(link: linkToken.text, fraction: percent / 100)
        case (nil, nil):
            throw line.error("say what is wrong with \(linkToken.text): 'down' or degrade=P%", at: linkToken)
        }
    }

    /// `at=` and `until=` as instants; both absolute, `at` not in the past, `until` after the start.
    private func window(_ line: CommandLine, now: SimInstant) throws(ScenarioError) -> (SimInstant?, SimInstant?) {
        func instant(_ key: String) throws(ScenarioError) -> SimInstant? {
            guard let token = line.option(key) else { return nil }
            let nanoseconds = try line.quantity(of: token, .time)
            guard nanoseconds >= 0, nanoseconds < 9e18 else {
                throw line.error("\(key) must be between 0 and 9e18 ns", at: token)
            }
            return .start + SimDuration(nanoseconds: Int64(nanoseconds.rounded()))
        }
        let start = try instant("at")
        let end = try instant("until")
        if let start, let token = line.option("at"), start < now {
            throw line.error("at=\(token.text) is in the past (the clock is at \(now))", at: token)
        }
        if let end, let token = line.option("until"), end <= (start ?? now) {
            let after = start == nil ? "now (\(now))" : "at=\(line.option("at")?.text ?? "")"
            throw line.error("until=\(token.text) must come after \(after)", at: token)
        }
        return (start, end)
    }

    private func showFaults(_ line: CommandLine) throws {
        try line.check(allowedKeys: [], maxPositionals: 1)
        let cluster = try clusterCommands.requireCluster(line)
        let faults = cluster.faults
        guard !faults.isEmpty else {
            session.output("no faults (inject one with 'fault link=NAME down' or 'fault gpu=N slow=X')")
            return
        }
        session.output("faults at \(session.simulation.now):")
        for record in faults { session.output("  \(record)") }
        var linkNames: [String] = []
        for name in faults.compactMap(\.fault.linkName) where !linkNames.contains(name) { linkNames.append(name) }
        for name in linkNames {
            guard let state = try? cluster.linkState(named: name) else { continue }
            let speed = state.bandwidthFactor < 1 ? ", at \(Int((state.bandwidthFactor * 100).rounded()))%" : ""
            session.output("  link \(name): \(state.isUp ? "up" : "down")\(speed)")
        }
    }

    private func registerMetrics() {
        let linkInstances: () -> [[String]] = { [unowned self] in
            clusterCommands.cluster?.links.map { [$0.name] } ?? []
        }
        session.register(
            Metric(
                "link[NAME].up", .number, "1 while the link is up, 0 while a fault holds it down",
                instances: linkInstances
            ) {
                [unowned self] selectors in
                guard let name = selectors.first, let state = try? clusterCommands.cluster?.linkState(named: name)
                else { return nil }
                return state.isUp ? 1 : 0
            })
        session.register(
            Metric("faults.active", .number, "faults in effect now") { [unowned self] _ in
                clusterCommands.cluster.map { Double($0.faults.filter(\.isActive).count) }
            })
    }
}
