import ArgumentParser
import Engine

@main
struct NoisyStudentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noisy-student",
        abstract: "Noisy Student training on CPU: teachers, pseudo labels, noisy students, robustness.",
        // Each subcommand lives in its own file beside this one.
        subcommands: [Run.self, TrainTeacher.self, Predict.self, Merge.self, Submit.self, MPIBench.self, Filter.self, TrainStudent.self, Evaluate.self, RobustnessCommand.self, Supervised.self, Classify.self, ExportPseudoLabels.self, Inspect.self, DataStats.self, DataPreview.self, DataBench.self, FetchSVHN.self, ChartGallery.self, ExportSplit.self]
    )

    /// Runs before argument parsing: choose the fastest safe OpenBLAS kernel (may re-exec).
    static func main() {
        BLASRuntime.prepareProcess()
        Self.main(nil)
    }
}
