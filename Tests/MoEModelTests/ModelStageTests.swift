import Testing
import Tensors

@testable import MoEModel

@Suite struct ModelStageTests {
    @Test func deepSeekV3SixtyOneLayersOverSixteenStages() throws {
        let ranges = try ModelStage.layerRanges(layers: 61, stages: 16)
        #expect(ranges.map(\.count) == [3] + Array(repeating: 4, count: 13) + [3, 3])
        #expect(ranges.first?.lowerBound == 0)
        #expect(ranges.last?.upperBound == 61)
        for (earlier, later) in zip(ranges, ranges.dropFirst()) { #expect(earlier.upperBound == later.lowerBound) }
    }

    @Test(arguments: [(8, 8), (8, 4), (8, 2), (8, 1), (12, 5), (7, 3)])
    func splitIsContiguousAndBalanced(layers: Int, stages: Int) throws {
        let ranges = try ModelStage.layerRanges(layers: layers, stages: stages)
        #expect(ranges.count == stages)
        #expect(ranges.flatMap { Array($0) } == Array(0..<layers))
        let counts = ranges.map(\.count)
        #expect((counts.max() ?? 0) - (counts.min() ?? 0) <= (layers % stages == 0 ? 0 : 1))
    }

    /// The documented rule seen from the other side: counting the embedding and the head as one layer each (as
    /// Megatron's `--account-for-embedding-in-pipeline-split` / `--account-for-loss-in-pipeline-split` do), every
    /// stage holds ⌊(L+2)/S⌋ or ⌈(L+2)/S⌉ units. DeepSeek-V3: 63 units over 16 stages, 4 each but stage 14 with 3.
    @Test func embeddingAndHeadWeighedAsLayersBalanceTheStages() throws {
        func units(_ layers: Int, _ stages: Int) throws -> [Int] {
            var counts = try ModelStage.layerRanges(layers: layers, stages: stages).map(\.count)
            counts[0] += 1
            counts[stages - 1] += 1
            return counts
        }
        #expect(try units(61, 16) == Array(repeating: 4, count: 14) + [3, 4])
        for layers in 1...70 {
            for stages in 1...min(layers, 20) {
                let split = try units(layers, stages)
                let (low, high) = ((layers + 2) / stages, (layers + 2 + stages - 1) / stages)
                #expect(split.allSatisfy { $0 == low || $0 == high }, "L=\(layers) S=\(stages): \(split)")
            }
        }
    }

    @Test func fewerLayersThanStagesIsRefused() {
        #expect(throws: ModelError.invalidConfig("3 layers cannot fill 4 pipeline stages (one layer each)")) {
            try ModelStage.layerRanges(layers: 3, stages: 4)
        }
    }

    @Test func stageParametersPartitionTheModel() throws {
        var config = TestModels.tiny()
        config.layerCount = 4
        let model = try MoETransformer(config: config)
        let stages = try ModelStage.stages(of: config, count: 3)
        #expect(stages.flatMap { $0.parameterShapes.map(\.name) } == model.parameterShapes.map(\.name))
        #expect(stages.map(\.isFirst) == [true, false, false])
        #expect(stages.map(\.isLast) == [false, false, true])
    }

    /// Chaining the stages' F, B and W gives the full model's loss and gradients bit for bit.
    @Test(arguments: [1, 2, 4])
    func chainedStagesEqualTheFullModel(stageCount: Int) throws {
        var config = TestModels.tiny()
        config.layerCount = 4
        let model = try MoETransformer(config: config)
        let parameters = try TestModels.parameters(model, seed: 5)
        let batch = try TokenBatch(tokens: [1, 4, 2, 9, 0, 3], targets: [4, 2, 9, 0, 3, 5], sequenceLength: 3)
        let pass = try model.forward(batch, parameters: parameters)
        let reference = try model.backward(pass, parameters: parameters)

        let stages = try ModelStage.stages(of: config, count: stageCount)
        let subsets = try stages.map { try $0.parameters(from: parameters) }
        var activation: Tensor?
        var caches: [ModelStage.Cache] = []
        for (stage, subset) in zip(stages, subsets) {
            let result = try stage.forward(activation, batch: batch, parameters: subset)
            activation = result.output
            caches.append(result.cache)
        }
        #expect(activation == nil)
        #expect(caches.last?.loss == pass.loss)
        var gradient: Tensor?
        for index in stages.indices.reversed() {
            var gradients = try subsets[index].zeros()
            let backward = try stages[index].backwardInput(gradient, cache: caches[index], parameters: subsets[index])
            try stages[index].backwardWeight(backward.weightTasks, into: &gradients)
            gradient = backward.inputGradient
            #expect(gradients == (try stages[index].parameters(from: reference)))
        }
        #expect(gradient == nil)
    }

    @Test func middleStageNeedsAnActivation() throws {
        var config = TestModels.tiny()
        config.layerCount = 3
        let stage = try ModelStage(config: config, layers: 1..<2)
        let batch = try TokenBatch(tokens: [1, 2], targets: [2, 3], sequenceLength: 2)
        #expect(throws: ModelError.self) { try stage.forward(nil, batch: batch, parameters: ParameterSet()) }
        #expect(throws: ModelError.self) { try ModelStage(config: config, layers: 2..<2) }
    }

    @Test func stageCostsSumToTheModel() throws {
        let costs = try CostModel(config: .deepSeekV3, tokens: 4096, sequenceLength: 4096)
        let ranges = try ModelStage.layerRanges(layers: 61, stages: 16)
        let total = ranges.flatMap { costs.stageOps(layers: $0) }.reduce(0) { $0 + $1.totalFLOPs }
        #expect(total == costs.totalFLOPs)
    }
}
