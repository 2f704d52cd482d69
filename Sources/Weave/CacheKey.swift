import Foundation

/// The parts a stage's cache key hashes. Kept side by side (not only the final digest) so that
/// `weave list` can say *which* part changed.
public struct KeyParts: Sendable, Codable, Equatable {
    /// The stage kind's raw value ("stage", "figure", "table").
    public var kind: String
    /// The stage's name (nil only in hand-made parts in tests).
    public var name: String?
    /// Digest of the stage's code and of the `define` declarations it reaches (what the stage
    /// process checks its program against).
    public var code: String
    /// Digest of the block's own code (nil in hand-made parts), for `weave list`.
    public var ownCode: String?
    /// Label -> digest of each `define` declaration the block reaches (`DefinitionIndex`; nil in
    /// hand-made parts), for `weave list`. Already inside `code`.
    public var definitions: [String: String]?
    /// Need name -> digest of what that need published (`EntryManifest.publishedDigest`), so a need
    /// that re-runs and publishes the same bytes leaves this key as it was (early cutoff);
    /// `KeyParts.unresolved` until the need's result exists (`Cache.resolve`).
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
    public init(kind: String, name: String? = nil, code: String, ownCode: String? = nil, definitions: [String: String]? = nil,
                inputs: [String: String], library: String, scale: String, seed: UInt64, seeds: Int = 1, data: String = "",
                extra: String? = nil) {
        self.kind = kind
        self.name = name
        self.code = code
        self.ownCode = ownCode
        self.definitions = definitions
        self.inputs = inputs
        self.library = library
        self.scale = scale
        self.seed = seed
        self.seeds = seeds
        self.data = data
        self.extra = extra
    }

    /// Bumped when the artifact format, generated code or key parts change meaning (v2: inputs
    /// are the needs' published content, definitions only those the stage reaches).
    public static let formatVersion = "weave-key-v2"

    /// An input whose need has no result yet: no digest with it names a cache entry.
    public static let unresolved = "unresolved"

    /// Whether every input is a need's published digest (only then is `digest` the stage's key).
    public var isResolved: Bool { !inputs.values.contains(Self.unresolved) }

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

    /// Digest of the data a figure draws (`weave diff`): its needs' published outputs and its
    /// `files=`/`env=`. A block with neither computes its own data, so its whole key stands in
    /// (a restyle then counts as a change: over-reported, never missed).
    public var dataDigest: String {
        guard !inputs.isEmpty || extra != nil else { return digest }
        let lines = inputs.sorted { $0.key < $1.key }.map { "input \($0.key) \($0.value)" } + ["extra \(extra ?? "")"]
        return Digest.hex(lines.joined(separator: "\n"))
    }

    /// What differs from `old` (the stage's last build), one phrase per part: `own code`,
    /// `define block (names)`, `inputs (needs)`, `library`, ... Inputs still unresolved here
    /// are left out (the caller knows whether those needs are fresh).
    public func changes(since old: KeyParts) -> [String] {
        var reasons: [String] = []
        if kind != old.kind { reasons.append("kind") }
        if code != old.code {
            if let ownCode, let definitions, let oldOwn = old.ownCode, let oldDefinitions = old.definitions {
                if ownCode != oldOwn { reasons.append("own code") }
                let names = Set(definitions.keys).union(oldDefinitions.keys).filter { definitions[$0] != oldDefinitions[$0] }
                if !names.isEmpty { reasons.append("define block (\(names.sorted().joined(separator: ", ")))") }
                if ownCode == oldOwn && names.isEmpty { reasons.append("code") }
            } else {
                reasons.append("code")
            }
        }
        let needs = Set(inputs.keys).union(old.inputs.keys).sorted().filter {
            inputs[$0] != Self.unresolved && inputs[$0] != old.inputs[$0]
        }
        if !needs.isEmpty { reasons.append("inputs (\(needs.joined(separator: ", ")))") }
        if library != old.library { reasons.append("library") }
        if scale != old.scale { reasons.append("scale") }
        if seed != old.seed || seeds != old.seeds { reasons.append("seed") }
        if data != old.data { reasons.append("data") }
        if extra != old.extra { reasons.append("files=/env=") }
        return reasons
    }
}

/// Computes every stage's key parts but its inputs, which are the needs' published outputs and
/// so are known only once those exist (`Cache.resolve`).
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

    /// `definitions` is the code of every `swift define` block: all stages compile with them,
    /// each is keyed on the declarations it reaches (`DefinitionIndex`). Inputs are
    /// `KeyParts.unresolved`.
    public func keys(for graph: StageGraph, definitions: String) -> [String: KeyParts] {
        var parts: [String: KeyParts] = [:]
        let index = DefinitionIndex(source: definitions)
        for name in graph.order {
            guard let stage = graph[name] else { continue }
            let reached = index.reached(from: stage.code)
            let ownCode = Digest.hex(stage.code)
            let definitionLines = reached.sorted { $0.key < $1.key }.map { "define \($0.key) \($0.value)" }
            parts[name] = KeyParts(
                kind: stage.kind.rawValue,
                name: stage.name,
                code: Digest.hex(([ownCode] + definitionLines).joined(separator: "\n")),
                ownCode: ownCode,
                definitions: reached,
                inputs: Dictionary(stage.needs.map { ($0, KeyParts.unresolved) }, uniquingKeysWith: { a, _ in a }),
                library: stage.kind.isPresentation ? presentationLibrary : computeLibrary,
                scale: scale, seed: seed, seeds: stage.seeds, data: data, extra: extras[name])
        }
        return parts
    }
}
