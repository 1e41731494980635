import Testing

@testable import Parallelism

@Suite struct ParallelLayoutTests {
    /// Every GPU appears in exactly one group of `groups`.
    private func coversOnce(_ groups: [[Int]], gpuCount: Int) -> Bool {
        groups.joined().sorted() == Array(0..<gpuCount)
    }

    @Test func deepSeekV3GroupSizes() throws {
        let layout = try ParallelLayout(
            pipelineStages: 16, expertParallel: 64, dataParallelReplicas: 2, gpuCount: 2048, gpusPerNode: 8,
            expertCount: 256)
        #expect(layout.dataParallel == 128)
        #expect(layout.pipelineGroups.count == 128 && layout.pipelineGroups.allSatisfy { $0.count == 16 })
        #expect(layout.expertGroups.count == 32 && layout.expertGroups.allSatisfy { $0.count == 64 })
        #expect(layout.dataGroups.count == 16 && layout.dataGroups.allSatisfy { $0.count == 128 })
        #expect(layout.expertDataGroups.count == 1024 && layout.expertDataGroups.allSatisfy { $0.count == 2 })
        for groups in [layout.pipelineGroups, layout.expertGroups, layout.dataGroups, layout.expertDataGroups] {
            #expect(coversOnce(groups, gpuCount: 2048))
        }
        // EP64 spans 8 whole nodes; pipeline neighbours sit on different nodes.
        #expect(layout.nodesPerExpertGroup == 8)
        #expect(layout.expertGroups.allSatisfy { Set($0.map { $0 / 8 }).count == 8 && $0.first! % 8 == 0 })
        #expect(layout.pipelineNeighboursOnDifferentNodes)
    }

    @Test func twoNodesEP4Replica2() throws {
        let layout = try ParallelLayout(
            pipelineStages: 2, expertParallel: 4, dataParallelReplicas: 2, gpuCount: 16, gpusPerNode: 8,
            expertCount: 8)
        #expect(layout.pipelineGroups[1] == [1, 9])
        #expect(layout.expertGroups == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11], [12, 13, 14, 15]])
        #expect(layout.dataGroups == [Array(0..<8), Array(8..<16)])
        #expect(layout.expertDataGroups[0] == [0, 4] && layout.expertDataGroups.count == 8)
        #expect(layout.coordinates(of: 13) == .init(stage: 1, dataIndex: 5, expertRank: 1, replica: 1))
        for groups in [layout.pipelineGroups, layout.expertGroups, layout.dataGroups, layout.expertDataGroups] {
            #expect(coversOnce(groups, gpuCount: 16))
        }
        #expect(layout.pipelineNeighboursOnDifferentNodes)
    }

    @Test func rejectsWhatDoesNotFit() {
        #expect(
            throws: LayoutError.invalid(
                name: "pp × ep × dp-replica", value: 8, reason: "2 × 4 × 1 must equal the 16 GPUs of the cluster")
        ) {
            try ParallelLayout(
                pipelineStages: 2, expertParallel: 4, dataParallelReplicas: 1, gpuCount: 16, gpusPerNode: 8)
        }
        #expect(throws: LayoutError.self) {
            try ParallelLayout(
                pipelineStages: 1, expertParallel: 16, dataParallelReplicas: 1, gpuCount: 16, gpusPerNode: 8,
                expertCount: 8)
        }
        #expect(throws: LayoutError.self) {
            try ParallelLayout(
                pipelineStages: 1, expertParallel: 12, dataParallelReplicas: 1, gpuCount: 12, gpusPerNode: 8)
        }
        #expect(throws: LayoutError.self) {
            try ParallelLayout(
                pipelineStages: 0, expertParallel: 1, dataParallelReplicas: 1, gpuCount: 0, gpusPerNode: 8)
        }
    }
}
