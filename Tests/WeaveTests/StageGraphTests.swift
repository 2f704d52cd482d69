import Foundation
import Testing
import Weave

@Suite struct StageGraphTests {
    @Test func ordersByNeedsKeepingDocumentOrderOtherwise() throws {
        let graph = try StageGraph(stages: [
            stage("plot", kind: .figure, needs: ["train"]),
            stage("data"),
            stage("train", needs: ["data"]),
            stage("other"),
        ])
        #expect(graph.order == ["data", "train", "plot", "other"])
        #expect(graph.closure(of: ["plot"]) == ["plot", "train", "data"])
        #expect(graph.dependents(of: "data") == ["train", "plot"])
        #expect(graph.dependents(of: "other").isEmpty)
    }

    @Test func duplicateNamesPointAtTheSecondDefinition() {
        let error = firstError { _ = try StageGraph(stages: [stage("a", line: 3), stage("a", kind: .figure, line: 9)]) }
        #expect(error?.location?.line == 9)
        #expect(error?.message.contains("chapters/01.md:3") == true)
    }

    @Test func unknownNeedsAreErrors() {
        let error = firstError { _ = try StageGraph(stages: [stage("a", needs: ["ghost"], line: 4)]) }
        #expect(error?.location?.line == 4)
        #expect(error?.message.contains("ghost") == true)
    }

    @Test func cyclesAreFoundWithTheirPath() {
        let error = firstError {
            _ = try StageGraph(stages: [
                stage("a", needs: ["c"], line: 1), stage("b", needs: ["a"], line: 5), stage("c", needs: ["b"], line: 9),
                stage("free", line: 13),
            ])
        }
        #expect(error?.message.contains("cycle") == true)
        #expect(error?.message.contains("a -> c -> b -> a") == true)
        #expect(error?.location?.line == 1)
    }

    @Test func selfNeedIsAnError() {
        let error = firstError { _ = try StageGraph(stages: [stage("a", needs: ["a"], line: 2)]) }
        #expect(error?.message.contains("itself") == true)
    }

    /// Long stages start first; among the rest, the ones more of the report waits on.
    @Test func dispatchPriorityPutsExpensiveThenUpstreamStagesFirst() throws {
        var costly = stage("costly")
        costly.expensive = true
        let graph = try StageGraph(stages: [
            stage("leaf"), stage("root"), stage("a", needs: ["root"]), stage("b", needs: ["a"]), costly,
        ])
        let p = graph.dispatchPriority()
        let ranked = graph.order.sorted { (p[$0] ?? 0) > (p[$1] ?? 0) }
        #expect(ranked == ["costly", "root", "a", "leaf", "b"])
    }

    /// The report's shape: cheap main runs that two long stages train from start before a long
    /// stage nothing needs (its seeds would otherwise hold every job while the chain waits).
    @Test func dispatchPriorityStartsTheChainToLongStagesFirst() throws {
        var ablations = stage("ablations", needs: ["runs"]); ablations.expensive = true; ablations.seeds = 3
        var robustness = stage("robustness", needs: ["runs"]); robustness.expensive = true
        var fashion = stage("fashion"); fashion.expensive = true; fashion.seeds = 3
        var runs = stage("runs", needs: ["setup"]); runs.seeds = 3
        let graph = try StageGraph(stages: [stage("setup"), runs, ablations, robustness, fashion, stage("figure", needs: ["fashion"])])
        let p = graph.dispatchPriority()
        let ranked = graph.order.sorted { (p[$0] ?? 0) > (p[$1] ?? 0) }
        // setup and runs unlock 4 long replicas (setup has one dependent more); fashion and
        // ablations 3 each (a figure waits on fashion), robustness 1.
        #expect(ranked == ["setup", "runs", "fashion", "ablations", "robustness", "figure"])
    }
}
