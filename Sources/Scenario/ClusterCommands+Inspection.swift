import Foundation
import Hardware
import SimCore

extension ClusterCommands {
    func registerInspection() {
        session.registerShow(
            Command("gpu", synopsis: "show gpu N", summary: "a GPU's SM split, kernels and HBM") {
                [unowned self] line in try showGPU(line)
            })
        session.registerShow(
            Command(
                "links", synopsis: "show links [top=K] [sort=util|bytes|name] [kind=nvlink|ib|comm|all]",
                summary: "links by utilisation, busiest per kind marked", argumentKeys: ["top", "sort", "kind"]
            ) {
                [unowned self] line in try showLinks(line)
            })
        session.registerShow(
            Command(
                "memory", synopsis: "show memory [all]",
                summary: "HBM per GPU (a summary above \(Self.memoryListLimit) GPUs)", completionWords: ["all"]
            ) {
                [unowned self] line in try showMemory(line)
            })
        session.registerShow(
            Command("route", synopsis: "show route from=gpuA to=gpuB", summary: "the links a message takes") {
                [unowned self] line in
                try line.check(allowedKeys: ["from", "to"], maxPositionals: 1)
                let cluster = try requireCluster(line)
                let route = try cluster.route(
                    from: GPUID(try gpuArgument("from", line, cluster)), to: GPUID(try gpuArgument("to", line, cluster))
                )
                session.output(route.description)
            })
        session.registerValues(command: "show", key: "sort") { ["util", "bytes", "name"] }
        session.registerValues(command: "show", key: "kind") { LinkKind.allCases.map(\.rawValue) + ["all"] }
        registerMetrics()
    }

    private func showGPU(_ line: CommandLine) throws {
        try line.check(allowedKeys: [], maxPositionals: 2)
        let cluster = try requireCluster(line)
        guard line.positionals.count == 2 else { throw line.error("usage: show gpu N", at: line.positionals[0]) }
        let report = try cluster.gpuReport(try gpuIndex(line.positionals[1], in: line, cluster: cluster))
        let hbm = report.hbm
        session.output(
            "\(report.name) (\(report.spec.name)): \(report.computeSMCount) compute SMs, \(report.commSMCount) comm SMs"
        )
        session.output("  compute: \(report.computeKernelCount) kernels, busy \(report.computeBusyTime)")
        session.output("  comm:    \(report.commKernelCount) kernels, busy \(report.commBusyTime)")
        session.output(
            "  HBM: \(bytes(hbm.usedBytes)) used, peak \(bytes(hbm.peakBytes)), capacity \(bytes(hbm.capacityBytes))")
        for kind in MemoryKind.allCases where hbm.peakBytes(kind) > 0 {
            session.output(
                "    \(kind.rawValue): \(bytes(hbm.currentBytes(kind))) now, peak \(bytes(hbm.peakBytes(kind)))")
        }
    }

    func bytes(_ count: Int) -> String { Quantity.format(Double(count), .bytes) }

    private func registerMetrics() {
        let gpuInstances: () -> [[String]] = { [unowned self] in (cluster?.gpus.indices ?? 0..<0).map { [String($0)] } }
        func gpuMetric(
            _ name: String, _ dimension: Dimension, _ summary: String, _ read: @escaping (Cluster.GPUReport) -> Double
        ) {
            session.register(
                Metric(name, dimension, summary, instances: gpuInstances) { [unowned self] selectors in
                    guard let cluster, let index = selectors.first.flatMap({ Int($0) }),
                        let report = try? cluster.gpuReport(index)
                    else { return nil }
                    return read(report)
                })
        }
        gpuMetric("gpu[N].hbm.used", .bytes, "HBM bytes allocated now") { Double($0.hbm.usedBytes) }
        gpuMetric("gpu[N].hbm.peak", .bytes, "most HBM bytes ever allocated") { Double($0.hbm.peakBytes) }
        gpuMetric("gpu[N].hbm.capacity", .bytes, "HBM capacity") { Double($0.hbm.capacityBytes) }
        gpuMetric("gpu[N].compute.busy", .time, "time the compute SMs ran kernels") {
            Double($0.computeBusyTime.nanoseconds)
        }
        gpuMetric("gpu[N].comm.busy", .time, "time the comm SMs ran kernels") { Double($0.commBusyTime.nanoseconds) }
        let linkInstances: () -> [[String]] = { [unowned self] in cluster?.links.map { [$0.name] } ?? [] }
        func linkMetric(
            _ name: String, _ dimension: Dimension, _ summary: String, _ read: @escaping (Cluster.LinkReport) -> Double
        ) {
            session.register(
                Metric(name, dimension, summary, instances: linkInstances) { [unowned self] selectors in
                    guard let cluster, let name = selectors.first, let report = try? cluster.linkReport(named: name)
                    else {
                        return nil
                    }
                    return read(report)
                })
        }
        linkMetric("link[NAME].bytes", .bytes, "bytes the link carried") { Double($0.bytes) }
        linkMetric("link[NAME].busy", .time, "time the link was sending") { Double($0.stats.busyTime.nanoseconds) }
        linkMetric("link[NAME].utilisation", .number, "busy time / elapsed virtual time (0…1)") {
            [unowned self] report in
            let now = session.simulation.now
            return now > .start ? report.utilisation(to: now) : 0
        }
        session.register(
            Metric("cluster.gpus", .number, "GPUs in the cluster") { [unowned self] _ in
                cluster.map { Double($0.gpus.count) }
            })
        registerTransferMetrics()
    }

    private func registerTransferMetrics() {
        func lastTransfer() -> TransferLog.Record? {
            guard let transfers else { return nil }
            return session.simulation.inspect(transfers) { $0.records.last }
        }
        session.register(
            Metric("send.last.time", .time, "queue-to-arrival time of the last delivered message") { _ in
                lastTransfer().map { Double(($0.end - $0.start).nanoseconds) }
            })
        session.register(
            Metric("send.last.bytes", .bytes, "size of the last delivered message") { _ in
                lastTransfer().map { Double($0.bytes) }
            })
        session.register(
            Metric("send.last.intact", .number, "1 if the last message arrived bit-identical") { _ in
                lastTransfer().map { $0.valuesMatch ? 1 : 0 }
            })
        session.register(
            Metric("send.delivered", .number, "messages delivered so far") { [unowned self] _ in
                transfers.map { log in Double(session.simulation.inspect(log) { $0.records.count }) }
            })
    }
}
