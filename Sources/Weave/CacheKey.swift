import Foundation

/// The parts a stage's cache key hashes. Kept side by side (not only the final digest) so that
/// `weave list` can say *which* part changed.
public struct KeyParts: Sendable, Codable, Equatable {
    /// The stage kind's raw value ("stage", "figure", "table").
    public var kind: String
    /// The stage's name (nil only in hand-made parts in tests).
    public var name: String?
    /// Digest of the stage's code and of the chapter definitions it can see.
    public var code: String
    /// Need name -> that stage's key.
    public var inputs: [String: String]
    /// Digest of the library sources this kind of stage runs against.
    public var library: String
    /// The build's experiment scale.
    public var scale: String
    /// The build's base seed.
    public var seed: UInt64
    /// How many seeds the stage runs (`seeds=N`).
    public var seeds: Int
    /// Digest of external data (`--data`), empty when none.
    public var data: String
    /// Digest of the block's declared `files=` contents and `env=` values; nil when it declares none.
    public var extra: String?

    /// Key parts as given; `KeyCalculator` is how a build makes them.
    public init(kind: String, name: String? = nil, code: String, inputs: [String: String], library: String, scale: String,
                seed: UInt64, seeds: Int = 1, data: String = "", extra: String? = nil) {
        self.kind = kind
        self.name = name
        self.code = code
        self.inputs = inputs
        self.library = library
        self.scale = scale
        self.seed = seed
        self.seeds = seeds
        self.data = data
        self.extra = extra
    }

    /// Bumped when the artifact format or generated code changes meaning.
    public static let formatVersion = "weave-key-v1"

    /// SHA-256 over a canonical text form (sorted inputs, one field per line).
    public var digest: String {
        var lines = [Self.formatVersion, "kind \(kind)", "code \(code)"]
        // The name too: `publish(value)` names the artifact after its stage, so two stages with
        // the same code do not produce the same artifacts.
        if let name { lines.append("name \(name)") }
        for (name, key) in inputs.sorted(by: { $0.key < $1.key }) { lines.append("input \(name) \(key)") }
        lines += ["library \(library)", "scale \(scale)", "seed \(seed)", "seeds \(seeds)", "data \(data)"]
        if let extra { lines.append("extra \(extra)") }
        return Digest.hex(lines.joined(separator: "\n"))
    }

    /// Human-readable reasons a stage with `old` parts is stale under `self`.
    public func changes(since old: KeyParts) -> [String] {
        var reasons: [String] = []
        if kind != old.kind { reasons.append("kind") }
        if code != old.code { reasons.append("code") }
        for name in Set(inputs.keys).union(old.inputs.keys).sorted() where inputs[name] != old.inputs[name] {
            reasons.append(old.inputs[name] == nil ? "new input \(name)" : inputs[name] == nil ? "dropped input \(name)" : "input \(name)")
        }
        if library != old.library { reasons.append("library") }
        if scale != old.scale { reasons.append("scale") }
        if seed != old.seed || seeds != old.seeds { reasons.append("seed") }
        if data != old.data { reasons.append("data") }
        if extra != old.extra { reasons.append("files=/env=") }
        return reasons
    }
}

/// Computes every stage's key in dependency order (a key includes its inputs' keys).
public struct KeyCalculator: Sendable {
    /// Scale every key gets.
    public var scale: String
    /// Base seed every key gets.
    public var seed: UInt64
    /// Digest of the library sources compute stages run against.
    public var computeLibrary: String
    /// Digest of the library sources figure and table stages run against (every library they can reach).
    public var presentationLibrary: String
    /// Digest of external data (`--data`), empty when none; in every key.
    public var data: String
    /// Stage name -> digest of its `files=` / `env=` declarations (absent: none declared).
    public var extras: [String: String]

    /// A calculator for one build's settings.
    public init(scale: String, seed: UInt64, computeLibrary: String, presentationLibrary: String, data: String = "",
                extras: [String: String] = [:]) {
        self.scale = scale
        self.seed = seed
        self.computeLibrary = computeLibrary
        self.presentationLibrary = presentationLibrary
        self.data = data
        self.extras = extras
    }

    /// `definitions` is the code of every `swift define` block: all stages compile with them, so
    /// all stages hash them.
    public func keys(for graph: StageGraph, definitions: String) -> [String: KeyParts] {
        var parts: [String: KeyParts] = [:]
        let definitionsDigest = Digest.hex(definitions)
        for name in graph.order {
            guard let stage = graph[name] else { continue }
            var inputs: [String: String] = [:]
            for need in stage.needs { inputs[need] = parts[need]?.digest ?? "" }
            parts[name] = KeyParts(
                kind: stage.kind.rawValue,
                name: stage.name,
                code: Digest.hex("\(definitionsDigest)\n\(stage.code)"),
                inputs: inputs,
                library: stage.kind.isPresentation ? presentationLibrary : computeLibrary,
                scale: scale, seed: seed, seeds: stage.seeds, data: data, extra: extras[name])
        }
        return parts
    }
}
