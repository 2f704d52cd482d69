import ArgumentParser
import Foundation
import MPIGroup
import NoisyStudent

// Training commands under `mpirun -np N`: data-parallel over the ranks (MPIGroup), one
// pipeline per rank, rank 0 the only one that prints progress and writes the run folder.
extension PipelineOptions {
    /// The pipeline of this process: alone, or rank `group.rank` of an mpirun.
    func pipeline(recipe: Recipe, data: PreparedData, group: MPIGroup?) throws -> Pipeline {
        if let group {
            for (what, batch) in [("teacher", recipe.teacherTraining.batchSize), ("student", recipe.studentTraining.batchSize)]
            where batch < group.size {
                throw ValidationError("the \(what) batch (\(batch)) is smaller than the \(group.size) MPI ranks sharing it")
            }
        }
        var p = Pipeline(recipe: recipe, data: data, folder: runFolder, resume: resume,
                         progress: group?.rank ?? 0 == 0 ? ConsoleProgress() : SilentProgress())
        p.group = group
        p.batchNormStatistics = batchNorm
        return p
    }
}

extension BatchNormStatistics: ExpressibleByArgument {}

/// Runs `body` with the mpirun group when there is one (MPI finalised afterwards on every path);
/// `body` gets whether this process is the one that reports (rank 0, or alone).
func withDataParallelGroup(_ body: (MPIGroup?, Bool) throws -> Void) throws {
    let group = MPIGroup.fromEnvironment()
    defer { group?.finalize() }
    if let group, group.rank == 0 {
        FileHandle.standardError.write(Data("noisy-student: data-parallel over \(group.size) MPI ranks\n".utf8))
    }
    try body(group, group?.rank ?? 0 == 0)
}
