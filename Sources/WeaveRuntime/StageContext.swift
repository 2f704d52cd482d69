import Foundation

/// Everything a running stage can see: its scale and seed, the artifacts of its declared
/// needs, and where to publish. Built once from the environment the weaver sets; a value, so
/// nothing global is mutated (published values go straight to disk).
public struct StageContext: Sendable {
    /// The stage's name (its block's `name=`).
    public let stage: String
    /// The build's scale: "tiny", "default" or "paper".
    public let scale: String
    /// The build's base seed (`weave build --seed`).
    public let seed: UInt64
    /// Data paths given to `weave build --data` (empty when none).
    public let dataPaths: [String]
    let inputs: [String: String]
    let output: URL
    let progressFile: URL?
    let threadsFile: URL?

    /// A context given directly (tests); stages get theirs from `fromEnvironment`. `inputs` maps
    /// artifact names to their files.
    public init(stage: String, scale: String, seed: UInt64, inputs: [String: String], output: URL,
                progressFile: URL? = nil, dataPaths: [String] = [], threadsFile: URL? = nil) {
        self.stage = stage
        self.scale = scale
        self.seed = seed
        self.inputs = inputs
        self.output = output
        self.progressFile = progressFile
        self.dataPaths = dataPaths
        self.threadsFile = threadsFile
    }

    /// The context the weaver put in the environment (`WEAVE_STAGE`, `WEAVE_OUTPUT`, `WEAVE_INPUTS`, ...).
    /// - Throws: `WeaveRuntimeError.missingEnvironment` when run outside `weave build`; a decoding
    /// error when `WEAVE_INPUTS` is not a JSON object of strings.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws -> StageContext {
        func required(_ key: String) throws -> String {
            guard let v = env[key], !v.isEmpty else { throw WeaveRuntimeError.missingEnvironment(key) }
            return v
        }
        let inputsJSON = env[StageProtocol.inputsVariable] ?? "{}"
        let inputs = try JSONDecoder().decode([String: String].self, from: Data(inputsJSON.utf8))
        return StageContext(
            stage: try required(StageProtocol.stageVariable),
            scale: env[StageProtocol.scaleVariable] ?? "default",
            seed: UInt64(env[StageProtocol.seedVariable] ?? "") ?? 0,
            inputs: inputs,
            output: URL(fileURLWithPath: try required(StageProtocol.outputVariable)),
            progressFile: env[StageProtocol.progressVariable].map { URL(fileURLWithPath: $0) },
            dataPaths: (env[StageProtocol.dataVariable] ?? "").split(separator: ":").map(String.init),
            threadsFile: env[StageProtocol.threadsVariable].map { URL(fileURLWithPath: $0) })
    }

    /// Names of every artifact this stage may read.
    public var availableInputs: [String] { inputs.keys.sorted() }

    // MARK: Publishing

    /// Publishes a Codable value as JSON under `name`. Non-finite numbers are an error: a NaN
    /// loss must fail the stage, not slip into the report as "nan%".
    public func publish<T: Encodable>(_ name: String, _ value: T) throws {
        guard isValidArtifactName(name) else { throw WeaveRuntimeError.badName(name) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data: Data
        do {
            data = try encoder.encode(value)
        } catch EncodingError.invalidValue(let v, let ctx) {
            let path = ctx.codingPath.map(\.stringValue).joined(separator: ".")
            throw WeaveRuntimeError.nonFinite(name, "\(v) at \(path.isEmpty ? "top level" : path)")
        }
        try write(data, to: output.appendingPathComponent(StageProtocol.artifactsFolder)
            .appendingPathComponent(name + ".json"))
    }

    /// Publishes under the stage's own name: the usual case of one result per stage.
    public func publish<T: Encodable>(_ value: T) throws { try publish(stage, value) }

    /// A path to write a large artifact (tensor, checkpoint) to; the file becomes artifact
    /// `name` once the stage succeeds. Downstream stages get its path from `inputFile(name)`.
    public func publishFile(_ name: String) throws -> URL {
        guard isValidArtifactName(name) else { throw WeaveRuntimeError.badName(name) }
        let folder = output.appendingPathComponent(StageProtocol.filesFolder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent(name)
    }

    // MARK: Reading

    /// Decodes input artifact `name`; only artifacts of the stage's `needs=` are visible.
    public func input<T: Decodable>(_ name: String, as type: T.Type = T.self) throws -> T {
        let url = try inputURL(name)
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        } catch {
            throw WeaveRuntimeError.unreadableInput(name, "\(error)")
        }
    }

    /// Path of a file artifact (see `publishFile`) of a declared need.
    public func inputFile(_ name: String) throws -> URL { try inputURL(name) }

    func inputURL(_ name: String) throws -> URL {
        guard let path = inputs[name] else {
            throw WeaveRuntimeError.undeclaredInput(name, declared: Array(inputs.keys))
        }
        return URL(fileURLWithPath: path)
    }

    // MARK: Progress

    /// The threads the weaver currently lets this stage use (nil outside a weaver build, or when
    /// it has not said). Read it between steps, e.g. with each progress report; it changes when
    /// the stages beside this one finish or start.
    public func threadBudget() -> Int? {
        guard let file = threadsFile, let data = try? Data(contentsOf: file),
              let n = Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)),
              n > 0 else { return nil }
        return n
    }

    /// Tells the weaver's live display how far along the stage is (`fraction` in 0...1 drives
    /// the ETA). Cheap enough to call per epoch; failures to write are ignored because progress
    /// is cosmetic.
    public func progress(_ text: String, fraction: Double? = nil) {
        guard let file = progressFile,
              let data = try? JSONEncoder().encode(ProgressReport(text: text, fraction: fraction)) else { return }
        try? write(data, to: file)
    }

    /// Temp file + rename so that readers (the weaver, downstream stages) never see half a file.
    /// Not SystemSupport's `AtomicFile`: this target stays Foundation-only, so a report without
    /// the engine (and the weaver's test project) links no C code; progress needs no fsync.
    func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        try data.write(to: temp)
        // rename(2) replaces the target atomically; Foundation's replaceItemAt is not atomic on Linux.
        guard rename(temp.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: temp)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
