import Collectives
import SimCore

/// `name=` on `collective` and `send`, and the metrics that read named work: `collective[NAME].…`,
/// `send[NAME].…`, so concurrent collectives and messages can be told apart.
extension ClusterCommands {
    /// Longest name accepted.
    static let maxNameLength = 64

    /// The `name=` of a work line, checked: letters, digits, `-` and `_`, not used before on this simulation.
    /// It is not reserved: call `reserve(_:)` once the line can no longer fail, so a corrected retry may reuse it.
    func workName(_ line: CommandLine) throws(ScenarioError) -> String? {
        guard let token = line.option("name") else { return nil }
        let name = token.text
        guard name.count <= Self.maxNameLength,
            name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        else {
            throw line.error(
                "'\(name)' is not a usable name (letters, digits, - and _, at most \(Self.maxNameLength))", at: token)
        }
        guard !usedNames.contains(name) else {
            throw line.error("the name '\(name)' is already taken by earlier work; pick another", at: token)
        }
        return name
    }

    /// Records `name` (from `workName`) as taken, once its line queued the work.
    func reserve(_ name: String?) {
        if let name { usedNames.append(name) }
    }

    func registerNamedMetrics() {
        let collectiveNames: () -> [[String]] = { [unowned self] in
            guard let collectiveLog else { return [] }
            return session.simulation.inspect(collectiveLog) { $0.names.compactMap { $0.map { [$0] } } }
        }
        func collectiveMetric(
            _ field: String, _ dimension: Dimension, _ summary: String, _ read: @escaping (CollectiveResult) -> Double
        ) {
            session.register(
                Metric("collective[NAME].\(field)", dimension, summary, instances: collectiveNames) {
                    [unowned self] selectors in
                    guard let collectiveLog, let name = selectors.first else { return nil }
                    return session.simulation.inspect(collectiveLog) { $0.result(named: name) }.map(read)
                })
        }
        collectiveMetric("time", .time, "duration of the collective called NAME") { Double($0.time.nanoseconds) }
        collectiveMetric("algbw", .bandwidth, "S / time of the collective called NAME") { $0.algbwBytesPerSecond }
        collectiveMetric("busbw", .bandwidth, "algbw × the nccl-tests factor, collective NAME") {
            $0.busbwBytesPerSecond
        }
        collectiveMetric("size", .bytes, "S of the collective called NAME") { Double($0.sizeBytes) }
        let sendNames: () -> [[String]] = { [unowned self] in
            guard let transfers else { return [] }
            return session.simulation.inspect(transfers) { $0.records.compactMap { $0.name.map { [$0] } } }
        }
        func sendMetric(
            _ field: String, _ dimension: Dimension, _ summary: String, _ read: @escaping (TransferLog.Record) -> Double
        ) {
            session.register(
                Metric("send[NAME].\(field)", dimension, summary, instances: sendNames) { [unowned self] selectors in
                    guard let transfers, let name = selectors.first else { return nil }
                    return session.simulation.inspect(transfers) { log in log.records.first { $0.name == name } }
                        .map(read)
                })
        }
        sendMetric("time", .time, "queue-to-arrival time of the message called NAME") {
            Double(($0.end - $0.start).nanoseconds)
        }
        sendMetric("bytes", .bytes, "size of the message called NAME") { Double($0.bytes) }
        sendMetric("intact", .number, "1 if the message called NAME arrived bit-identical") { $0.valuesMatch ? 1 : 0 }
    }
}
