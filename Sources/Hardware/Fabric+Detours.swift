/// Paths around down links.
///
/// A detour leaves the source node through an exit GPU's NIC (the source itself, or a GPU of its node reached
/// over NVLink: PXN), crosses the IB fabric (the rail's leaf directly when exit and entry share a rail, else
/// up to a spine and down to the entry rail's leaf), and enters the destination node at an entry GPU (the
/// destination itself, or a GPU of its node that forwards over NVLink). GPUs of one node may also talk through
/// the IB fabric when NVLink is down. Candidates are tried by hop count, then with the source's own NIC, the
/// destination's own NIC, exit and entry GPUs in rail order from the destination's rail, and spines in order
/// from the one destination-mod-k routing picks; the first whose links are all up wins.
extension Fabric {
    func detour(from source: GPUID, to destination: GPUID) -> Route? {
        let rails = spec.gpusPerNode
        let (srcNode, dstNode) = (node(of: source), node(of: destination))
        let dstRail = rail(of: destination)
        let sameNode = srcNode == dstNode
        if sameNode, rails < 2 { return nil }
        struct Candidate {
            let exit: Int
            let entry: Int
            let hops: Int
            let order: (Int, Int, Int, Int)
        }
        var candidates: [Candidate] = []
        for exitRail in 0..<rails {
            let exit = srcNode * rails + exitRail
            for entryRail in 0..<rails {
                let entry = dstNode * rails + entryRail
                // Inside one node an IB path must leave and enter on different rails (else it loops back).
                if sameNode && exitRail == entryRail { continue }
                let hops =
                    1 + (exit != source.index ? 2 : 0) + 1 + (exitRail == entryRail ? 1 : 3)
                    + (entry != destination.index ? 2 : 0)
                let order = (
                    exit != source.index ? 1 : 0, entry != destination.index ? 1 : 0,
                    (exitRail - dstRail + rails) % rails, (entryRail - dstRail + rails) % rails
                )
                candidates.append(Candidate(exit: exit, entry: entry, hops: hops, order: order))
            }
        }
        candidates.sort {
            ($0.hops, $0.order.0, $0.order.1, $0.order.2, $0.order.3) < (
                $1.hops, $1.order.0, $1.order.1, $1.order.2, $1.order.3
            )
        }
        let firstSpine = dstNode % spineCount
        for candidate in candidates {
            let (exitRail, entryRail) = (candidate.exit % rails, candidate.entry % rails)
            var head = [commOut[source.index]]
            if candidate.exit != source.index { head += [nvlinkOut[source.index], nvswitchOut[candidate.exit]] }
            head.append(nicOut[candidate.exit])
            var tail = [leafDown[entryRail * spec.nodeCount + dstNode]]
            if candidate.entry != destination.index {
                tail += [nvlinkOut[candidate.entry], nvswitchOut[destination.index]]
            }
            guard Self.isUp(head), Self.isUp(tail) else { continue }
            if exitRail == entryRail {
                return Route(source: source, destination: destination, kind: .detour, links: head + tail)
            }
            for offset in 0..<spineCount {
                let spine = (firstSpine + offset) % spineCount
                let middle = [leafUp[exitRail * spineCount + spine], spineDown[spine * rails + entryRail]]
                if Self.isUp(middle) {
                    return Route(source: source, destination: destination, kind: .detour, links: head + middle + tail)
                }
            }
        }
        return nil
    }
}
