import Foundation

/// The contract between the weaver and a stage process: environment variable names and the
/// layout of a stage's output folder. Both sides import this file, so they cannot drift apart.
public enum StageProtocol {
    /// Name of the stage to run (the generated executable holds every stage).
    public static let stageVariable = "WEAVE_STAGE"
    /// Scale string (`tiny`, `default`, `paper`, ...), passed through untouched.
    public static let scaleVariable = "WEAVE_SCALE"
    /// The seed for this run (decimal UInt64).
    public static let seedVariable = "WEAVE_SEED"
    /// Folder the stage writes its artifacts into (the weaver moves it into the cache afterwards).
    public static let outputVariable = "WEAVE_OUTPUT"
    /// JSON object: artifact name -> absolute path, only for artifacts of declared `needs`.
    public static let inputsVariable = "WEAVE_INPUTS"
    /// File the stage rewrites with its latest `ProgressReport` (polled by the weaver).
    public static let progressVariable = "WEAVE_PROGRESS"
    /// File holding the stage's thread budget (a decimal count), which the weaver raises when
    /// cores would otherwise idle (the last stages of a build) and lowers when others start.
    /// Stages may follow it between steps: results must not depend on the thread count.
    public static let threadsVariable = "WEAVE_THREADS_FILE"
    /// Optional data paths given to `weave build --data` (colon separated).
    public static let dataVariable = "WEAVE_DATA"
    /// The code part of the key the weaver runs this stage for. The program holds the code part
    /// of the chapters it was compiled from; a mismatch (another build recompiled the program)
    /// makes the stage refuse to run instead of filing new code's result under an old key.
    public static let codeKeyVariable = "WEAVE_CODE_KEY"
    /// "1": standard input is a pipe whose writing end only the weaver holds. End of file means
    /// the weaver is gone (Ctrl-C, SIGTERM, `kill -9`), and the stage exits at once.
    public static let watchParentVariable = "WEAVE_WATCH_PARENT"

    /// Inside the output folder: `artifacts/NAME.json` for values, `files/NAME` for blobs.
    public static let artifactsFolder = "artifacts"
    /// Inside the output folder: `files/NAME` holds a published file (e.g. a checkpoint).
    public static let filesFolder = "files"
    /// Figures and tables: the stage's rendered result.
    public static let figureSVG = "figure.svg"
    /// The figure as PNG at 2x.
    public static let figurePNG = "figure.png"
    /// The figure's size in points (`FigureInfo`).
    public static let figureInfo = "figure.json"
    /// A table stage's `Table` as JSON.
    public static let tableFile = "table.json"
    /// Written when the stage throws, so the report can show the message.
    public static let failureFile = "failure.json"

    /// Exit status of a stage that threw (crashes are told apart by their signal).
    public static let failureExitCode: Int32 = 3
    /// Exit status of a stage whose program does not match its key (see `codeKeyVariable`).
    public static let wrongProgramExitCode: Int32 = 4
    /// Exit status of a stage that stopped because the weaver went away.
    public static let orphanExitCode: Int32 = 5
}

/// What a stage reports about itself while it runs ("epoch 3/10", 0.3).
public struct ProgressReport: Codable, Sendable, Equatable {
    /// What the stage is doing, one short line.
    public var text: String
    /// 0...1 when known; drives the ETA.
    public var fraction: Double?
    /// A report; see the properties.
    public init(text: String, fraction: Double? = nil) { self.text = text; self.fraction = fraction }
}

/// Why a stage failed, as it told us before exiting.
public struct StageFailure: Codable, Sendable, Equatable {
    /// The error's description, shown in the report where the stage's result would be.
    public var message: String
    /// A failure with `message`.
    public init(message: String) { self.message = message }
}

/// Size of a rendered figure in points, as the figure value reported it.
public struct FigureInfo: Codable, Sendable, Equatable {
    /// Width in points.
    public var width: Double
    /// Height in points.
    public var height: Double
    /// A size in points.
    public init(width: Double, height: Double) { self.width = width; self.height = height }
}

/// What a stage did wrong with the weaver's protocol; each case names the input, variable or value.
public enum WeaveRuntimeError: Error, CustomStringConvertible, Equatable {
    case undeclaredInput(String, declared: [String])
    case missingEnvironment(String)
    case badName(String)
    case nonFinite(String, String)
    case unreadableInput(String, String)

    /// One line saying what to fix.
    public var description: String {
        switch self {
        case .undeclaredInput(let name, let declared):
            let list = declared.isEmpty ? "none" : declared.sorted().joined(separator: ", ")
            return "input '\(name)' is not an artifact of this stage's needs= (available: \(list))"
        case .missingEnvironment(let v):
            return "\(v) is not set: stages are run by `weave build`, not directly"
        case .badName(let n):
            return "artifact name '\(n)' must be letters, digits, '-' or '_'"
        case .nonFinite(let name, let detail):
            return "published value '\(name)' is not finite (NaN or infinity): \(detail)"
        case .unreadableInput(let name, let detail):
            return "input '\(name)' could not be decoded: \(detail)"
        }
    }
}

/// Artifact names double as file names and as the first component of `{{ name.path }}`.
public func isValidArtifactName(_ name: String) -> Bool {
    !name.isEmpty && name.unicodeScalars.allSatisfy {
        CharacterSet.alphanumerics.contains($0) && $0.isASCII || $0 == "-" || $0 == "_"
    }
}
