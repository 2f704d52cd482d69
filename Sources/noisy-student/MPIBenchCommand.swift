import ArgumentParser
import Engine
import Foundation
import MPIGroup
import NoisyStudent
import Randomness

/// `mpirun -np N noisy-student mpi-bench`: per training step of a global batch split over the
/// ranks, the compute (forward + backward on this rank's share) against the gradient allreduce
/// (`MPI_Allreduce` of every trainable parameter's gradient, plus the batch-norm statistics),
/// each timed on its own (compute first, then a barrier-aligned allreduce). With synchronised
/// batch norm the compute includes its small per-layer allreduces, also timed on their own.
/// For docs/cluster.md.
struct MPIBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mpi-bench", abstract: "Time compute vs gradient allreduce per data-parallel step (run under mpirun).")
    @Option(help: "ResNet depth (the post-activation CIFAR ResNet).") var depth: Int = 8
    @Option(help: "ResNet base width.") var width: Int = 16
    @Option(help: "Global batch (split over the ranks).") var batch: Int = 128
    @Option(help: "Timed steps (after 2 warm-up steps).") var steps: Int = 10
    @Option(help: "BLAS threads per rank.") var threads: Int = 1
    @Option(help: "Batch-norm statistics: synchronised or per-rank.") var batchNorm: BatchNormStatistics = .synchronised

    /// The group's Double allreduce, timed: synchronised batch norm's share of a step.
    final class TimedStatistics: BatchStatisticsReducer {
        let group: MPIGroup
        var seconds = 0.0, calls = 0
        init(_ group: MPIGroup) { self.group = group }
        func allReduceSum(_ buffer: inout [Double]) {
            let t0 = Date()
            group.allReduceSum(&buffer)
            seconds += Date().timeIntervalSince(t0); calls += 1
        }
    }

    func run() throws {
        try withDataParallelGroup { group, reports in
            guard let group else { throw ValidationError("mpi-bench measures MPI: run it under mpirun -np N") }
            BLASRuntime.setThreads(threads)
            var rng = SeededGenerator(seed: 0)
            let net = ModelSpec.resnet(depth: depth, width: width).build(rng: &rng)
            let local = group.share(of: batch).count
            var x = Tensor(zeros: [local, 32, 32, 3])
            for i in 0..<x.count { x.scalars[i] = rng.normal() }
            let labels = (0..<local).map { _ in rng.int(below: 10) }
            var compute = 0.0, reduce = 0.0
            let statistics = TimedStatistics(group)
            var statisticsSeconds = 0.0, statisticsCalls = 0
            for step in 0..<(steps + 2) {
                net.zeroGradients()
                let t0 = Date()
                let (s0, c0) = (statistics.seconds, statistics.calls)
                let ctx = ForwardContext(training: true, batchStatistics: batchNorm == .synchronised ? statistics : nil)
                let loss = softmaxCrossEntropy(logits: net(Variable(x), ctx), labels: labels)
                loss.backward()
                let t1 = Date()
                group.barrier()
                let t2 = Date()
                _ = group.synchronize(net.parameters, localLoss: loss.value.scalars[0])
                let t3 = Date()
                if step >= 2 {
                    compute += t1.timeIntervalSince(t0); reduce += t3.timeIntervalSince(t2)
                    statisticsSeconds += statistics.seconds - s0; statisticsCalls += statistics.calls - c0
                }
            }
            guard reports else { return }
            let floats = net.parameters.reduce(1) { $0 + $1.value.count }
            print(String(format: "ResNet-%d w%d: %d ranks, global batch %d (%d per rank), %d floats (%.2f MB) per allreduce; "
                         + "compute %.1f ms/step, allreduce %.2f ms/step (%.1f%% of compute)",
                         depth, width, group.size, batch, local, floats, Double(floats * 4) / 1e6,
                         1000 * compute / Double(steps), 1000 * reduce / Double(steps), 100 * reduce / compute)
                  + String(format: "; batch norm %@: %d allreduces, %.2f ms/step inside the compute",
                           batchNorm.rawValue, statisticsCalls / max(steps, 1), 1000 * statisticsSeconds / Double(steps)))
        }
    }
}
