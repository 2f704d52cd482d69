import ArgumentParser
import Engine

@main
struct NoisyStudentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "noisy-student",
        abstract: "Noisy Student training on CPU: teachers, pseudo labels, noisy students, robustness.",
        // Each subcommand lives in its own file beside this one.
        subcommands: [ChartGallery.self]
    )

    /// Runs before argument parsing: choose the fastest safe OpenBLAS kernel (may re-exec).
    static func main() {
        BLASRuntime.prepareProcess()
        Self.main(nil)
    }
}
