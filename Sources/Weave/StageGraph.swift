import Foundation

/// The stages of all chapters and their `needs=` edges, checked: unique names, known needs,
/// no cycles. Order is document order where the edges allow it, so runs and lists read like
/// the report.
public struct StageGraph: Sendable {
    /// Every stage in document order.
    public let stages: [Stage]
    /// Stages in dependency order (every stage after all it needs).
    public let order: [String]
    let index: [String: Int]

    /// The graph of every chapter's stages, in chapter order; throws as `init(stages:)`.
    public init(chapters: [Chapter]) throws {
        try self.init(stages: chapters.flatMap(\.stages))
    }

    /// Checks and orders `stages`; throws `WeaveErrors` listing every duplicate name, unknown or
    /// self need and cycle, each at its stage's location.
    public init(stages: [Stage]) throws {
        var errors: [WeaveError] = []
        var index: [String: Int] = [:]
        for (i, stage) in stages.enumerated() {
            if let first = index[stage.name] {
                errors.append(WeaveError("duplicate name '\(stage.name)' (first defined at \(stages[first].location))", at: stage.location))
            } else {
                index[stage.name] = i
            }
        }
        for stage in stages {
            for need in stage.needs where index[need] == nil {
                errors.append(WeaveError("'\(stage.name)' needs unknown stage '\(need)'", at: stage.location))
            }
            if stage.needs.contains(stage.name) {
                errors.append(WeaveError("'\(stage.name)' needs itself", at: stage.location))
            }
        }
        if !errors.isEmpty { throw WeaveErrors(errors) }
        self.stages = stages
        self.index = index
        self.order = try Self.topologicalOrder(stages, index: index)
    }

    /// The stage called `name`, or nil.
    public subscript(name: String) -> Stage? { index[name].map { stages[$0] } }

    /// Depth-first post-order from each stage in document order; a grey node met again is a cycle.
    static func topologicalOrder(_ stages: [Stage], index: [String: Int]) throws -> [String] {
        enum Mark { case visiting, done }
        var marks: [String: Mark] = [:]
        var order: [String] = []
        var path: [String] = []

        func visit(_ name: String) throws {
            switch marks[name] {
            case .done: return
            case .visiting:
                let start = path.firstIndex(of: name) ?? 0
                let cycle = path[start...] + [name]
                let stage = stages[index[name] ?? 0]
                throw WeaveErrors([WeaveError("cycle in needs: \(cycle.joined(separator: " -> "))", at: stage.location)])
            case nil: break
            }
            marks[name] = .visiting
            path.append(name)
            if let i = index[name] {
                for need in stages[i].needs { try visit(need) }
            }
            path.removeLast()
            marks[name] = .done
            order.append(name)
        }
        for stage in stages { try visit(stage.name) }
        return order
    }

    /// `name` and everything it needs, transitively (what `--only` must build).
    public func closure(of names: [String]) -> Set<String> {
        var seen: Set<String> = []
        var stack = names
        while let name = stack.popLast() {
            guard seen.insert(name).inserted, let stage = self[name] else { continue }
            stack += stage.needs
        }
        return seen
    }

    /// Which ready stage process to start first when several wait for a free job: the stage that
    /// unlocks the most long work first (the replicas of `expensive` stages among itself and
    /// everything downstream of it), then stages more of the report waits on, then document
    /// order. A cheap stage that the long ones need (a report's main runs, which its ablations
    /// train from) thus starts before a long stage nothing waits on, and the long leaves fill the
    /// other jobs beside the chain. Ranking the long stages alone first kept a 2-job cold build
    /// on a long leaf's seeds for 13 minutes while everything else waited for the main runs,
    /// and one job idled at the end (AMD EPYC, 2 cores).
    public func dispatchPriority() -> [String: Int] {
        func long(_ name: String) -> Int { self[name].map { $0.expensive ? $0.seeds : 0 } ?? 0 }
        // Keys computed once per stage, not inside the sort's comparisons.
        let keyed = order.enumerated().map { offset, name in
            let downstream = dependents(of: name)
            return (name: name, unlocks: downstream.reduce(long(name)) { $0 + long($1) }, dependents: downstream.count,
                    offset: offset)
        }
        let ordered = keyed.sorted { a, b in
            (a.unlocks, a.dependents) != (b.unlocks, b.dependents)
                ? (a.unlocks, a.dependents) > (b.unlocks, b.dependents) : a.offset < b.offset
        }
        var rank: [String: Int] = [:]
        for (r, item) in ordered.enumerated() { rank[item.name] = ordered.count - r }
        return rank
    }

    /// Everything downstream of `name` (what a failure of `name` leaves not run).
    public func dependents(of name: String) -> Set<String> {
        var result: Set<String> = []
        for candidate in order where candidate != name {
            guard let stage = self[candidate] else { continue }
            if stage.needs.contains(where: { $0 == name || result.contains($0) }) { result.insert(candidate) }
        }
        return result
    }
}
