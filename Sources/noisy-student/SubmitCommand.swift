import ArgumentParser
import Foundation
import NoisyStudent
import Slurm

/// `submit predict --shards N`: the pseudo-labelling of the unlabeled pool as a Slurm job array
/// (`predict --shard i/N` for i in 0..<N), then `merge` as a job that starts only when every
/// shard succeeded (`--dependency=afterok`). Slurm schedules; this only submits.
struct Submit: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit",
        abstract: "Submit a phase to Slurm: `submit predict --shards N [--partition P] -- PREDICT-OPTIONS` (a job array, then merge).",
        discussion: """
        Options after `--` go to every `predict` job as they are (e.g. `--scale default --threads 4`); \
        the run folder must be on a file system every node sees. Job logs: RUN/slurm/.
        """)
    @Argument(help: "The phase to submit (predict).") var phase: String
    @Option(help: "Number of shards, one array task each.") var shards: Int
    @Option(name: .customLong("run"), help: "Run folder (shared file system).") var runPath: String = "runs/latest"
    @Option(help: "Which iteration's labels.") var iteration: Int = 1
    @Option(help: "Slurm partition.") var partition: String?
    @Option(help: "More sbatch arguments, given with =, e.g. --sbatch-args=\"--cpus-per-task=4 --time=1:00:00\".") var sbatchArgs: String = ""
    @Argument(parsing: .postTerminator, help: "Options for every predict job.") var predictOptions: [String] = []

    func validate() throws {
        guard phase == "predict" else { throw ValidationError("submit knows the phase predict (got '\(phase)')") }
        guard shards >= 1 else { throw ValidationError("--shards must be 1 or more") }
        for reserved in ["--run", "--iteration", "--shard"] where predictOptions.contains(where: { $0 == reserved || $0.hasPrefix(reserved + "=") }) {
            throw ValidationError("\(reserved) after -- : give it to submit itself")
        }
    }

    func run() throws {
        let runFolder = URL(fileURLWithPath: runPath).standardizedFileURL
        // Checked here, not in the jobs: a missing model would fail every shard and leave the
        // merge job pending on a dependency that can never be met.
        guard iteration >= 1 else { throw ValidationError("--iteration must be 1 or more, got \(iteration)") }
        let labeler = runFolder.appendingPathComponent("\(RunFolder.modelName(iteration - 1)).ckpt")
        guard FileManager.default.fileExists(atPath: labeler.path) else {
            throw ValidationError("\(labeler.path) does not exist: iteration \(iteration) is labelled by it; "
                                  + "train it first (`noisy-student train-teacher --run \(runPath)`, or train-student)")
        }
        _ = try Pipeline.loadModel(labeler)  // a damaged checkpoint stops here, before any job
        let logs = runFolder.appendingPathComponent("slurm")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        let extra = try Slurm.splitArguments(sbatchArgs)
        let executable = try Self.ownExecutable()
        let common = ["--run", runFolder.path, "--iteration", String(iteration)]
        let predict = ([executable, "predict"] + common + predictOptions).map(Slurm.shellQuote).joined(separator: " ")
            + " --shard \"$SLURM_ARRAY_TASK_ID/\(shards)\""
        let arrayID = try Slurm.submit(
            script: "#!/bin/sh\nexec \(predict)\n",
            .init(name: "predict-\(iteration)", partition: partition, arraySize: shards,
                  output: logs.appendingPathComponent("predict-\(iteration)-%A_%a.out").path, extraArguments: extra))
        let merge = ([executable, "merge"] + common).map(Slurm.shellQuote).joined(separator: " ")
        let mergeID = try Slurm.submit(
            script: "#!/bin/sh\nexec \(merge)\n",
            .init(name: "merge-\(iteration)", partition: partition, afterOK: [arrayID],
                  output: logs.appendingPathComponent("merge-\(iteration)-%j.out").path, extraArguments: extra))
        print("submitted predict array \(arrayID) (\(shards) shards) and merge \(mergeID) (after every shard succeeds); logs in \(logs.path)")
    }

    /// This program's own path, so the jobs run the same build.
    static func ownExecutable() throws -> String {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard FileManager.default.isExecutableFile(atPath: path) else { throw ValidationError("cannot find this program's own path (\(path))") }
        return path
    }
}
