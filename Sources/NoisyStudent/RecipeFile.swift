import Engine
import Foundation

/// A recipe that cannot run: the file (when it came from one), the key path and why.
public struct RecipeError: Error, CustomStringConvertible, Equatable {
    /// The recipe's file, or nil for a recipe built in code.
    public var file: String?
    /// Dotted key path, e.g. `teacherTraining.batchSize` or `students[1].depth`.
    public var key: String
    /// What is wrong with the value, and what is allowed.
    public var problem: String

    /// An error about `key` of `file`.
    public init(file: String? = nil, key: String, problem: String) {
        self.file = file; self.key = key; self.problem = problem
    }

    /// `FILE: KEY: PROBLEM`.
    public var description: String {
        (file.map { "\($0): " } ?? "recipe: ") + (key.isEmpty ? problem : "\(key): \(problem)")
    }
}

extension Recipe {
    /// Reads a recipe JSON file strictly: malformed JSON, a missing or mistyped key, a key the
    /// recipe does not have (a misspelling such as `emaDecy` would otherwise be ignored) and an
    /// out-of-range value are all errors naming the file and the key, before any work starts.
    /// - Throws: `RecipeError`.
    public static func load(from url: URL) throws -> Recipe {
        let path = url.path
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw RecipeError(file: path, key: "", problem: "cannot read: \(error.localizedDescription)")
        }
        let recipe: Recipe
        do { recipe = try JSONDecoder().decode(Recipe.self, from: data) } catch let e as DecodingError {
            if e.keyPath.isEmpty, let json = try? JSONSerialization.jsonObject(with: data), let key = Self.unfitNumber(json) {
                throw RecipeError(file: path, key: key, problem: "not a whole number in range")
            }
            throw RecipeError(file: path, key: e.keyPath, problem: e.problem)
        } catch {
            throw RecipeError(file: path, key: "", problem: "not a recipe: \(error)")
        }
        // Foundation keeps one of two equal keys without a word: the file would not mean what it says.
        if let key = Self.duplicateKey(data) {
            throw RecipeError(file: path, key: key, problem: "given twice in one object (only one of the values would be used)")
        }
        // Unknown keys: whatever the file holds that the decoded recipe does not write back.
        // (Optional keys given as null are absent from both and so are not reported.)
        if let given = try? JSONSerialization.jsonObject(with: data),
           let known = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(recipe)),
           let unknown = Self.unknownKeys(given, known, path: "").first {
            throw RecipeError(file: path, key: unknown, problem: "unknown key (misspelled?)")
        }
        do { try recipe.validate() } catch var e as RecipeError {
            e.file = path
            throw e
        }
        return recipe
    }

    /// Foundation reports a fraction or a huge number where a whole number belongs as invalid
    /// JSON without a key; this finds the key: the first such number whose replacement by 1
    /// lets the recipe decode past it.
    static func unfitNumber(_ json: Any) -> String? {
        func leaves(_ v: Any, _ path: [Any]) -> [[Any]] {
            if let d = v as? [String: Any] { return d.keys.sorted().flatMap { leaves(d[$0] as Any, path + [$0]) } }
            if let a = v as? [Any] { return a.enumerated().flatMap { leaves($1, path + [$0]) } }
            // Negative whole numbers too: -1 for the unsigned seed is also reported without a key.
            if let n = v as? NSNumber, !(n.doubleValue == n.doubleValue.rounded() && n.doubleValue >= 0 && n.doubleValue < 9e15) { return [path] }
            return []
        }
        func replacing(_ v: Any, _ path: ArraySlice<Any>) -> Any {
            guard let head = path.first else { return NSNumber(value: 1) }
            if var d = v as? [String: Any], let k = head as? String { d[k] = replacing(d[k] as Any, path.dropFirst()); return d }
            if var a = v as? [Any], let i = head as? Int { a[i] = replacing(a[i], path.dropFirst()); return a }
            return v
        }
        func corrupt(_ v: Any) -> Bool {
            guard let data = try? JSONSerialization.data(withJSONObject: v) else { return false }
            do { _ = try JSONDecoder().decode(Recipe.self, from: data); return false } catch let e as DecodingError {
                if case .dataCorrupted(let c) = e { return c.codingPath.isEmpty }
                return false
            } catch { return false }
        }
        for path in leaves(json, []) where !corrupt(replacing(json, path[...])) {
            return path.map { ($0 as? Int).map { "[\($0)]" } ?? ".\($0)" }.joined().replacingOccurrences(of: "^\\.", with: "", options: .regularExpression)
                .replacingOccurrences(of: ".[", with: "[")
        }
        return nil
    }

    /// The dotted path (`students[1].depth`) of the first key that appears twice in one object
    /// of `data`, already known to be valid JSON; nil when there is none. Keys are compared
    /// with their escapes decoded, as the decoder sees them.
    static func duplicateKey(_ data: Data) -> String? {
        // One open container: its keys so far (nil: an array), its path, the current element.
        struct Container { var keys: Set<String>?; var path: String; var index = 0; var lastKey = ""; var expectsKey = true }
        let bytes = [UInt8](data)
        var stack: [Container] = []
        var i = 0
        func childPath() -> String {
            guard let top = stack.last else { return "" }
            if top.keys == nil { return "\(top.path)[\(top.index)]" }
            return top.path.isEmpty ? top.lastKey : "\(top.path).\(top.lastKey)"
        }
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"): stack.append(Container(keys: [], path: childPath()))
            case UInt8(ascii: "["): stack.append(Container(keys: nil, path: childPath()))
            case UInt8(ascii: "}"), UInt8(ascii: "]"): _ = stack.popLast()
            case UInt8(ascii: ","):
                guard let last = stack.indices.last else { break }
                if stack[last].keys == nil { stack[last].index += 1 } else { stack[last].expectsKey = true }
            case UInt8(ascii: "\""):
                let start = i + 1
                i = start
                while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
                guard let last = stack.indices.last, stack[last].keys != nil, stack[last].expectsKey else { break }
                let raw = String(decoding: bytes[start..<min(i, bytes.count)], as: UTF8.self)
                // Escapes decoded ("se\u0065d" is "seed"), as the recipe's decoder reads them.
                let key = (try? JSONDecoder().decode(String.self, from: Data("\"\(raw)\"".utf8))) ?? raw
                stack[last].lastKey = key
                stack[last].expectsKey = false
                if stack[last].keys?.insert(key).inserted == false { return childPath() }
            default: break
            }
            i += 1
        }
        return nil
    }

    /// Keys present in `given` but not in `known`, as dotted paths (first differences only).
    static func unknownKeys(_ given: Any, _ known: Any, path: String) -> [String] {
        if let g = given as? [String: Any] {
            let k = known as? [String: Any] ?? [:]
            return g.keys.sorted().flatMap { key -> [String] in
                let sub = path.isEmpty ? key : "\(path).\(key)"
                guard let kv = k[key] else { return g[key] is NSNull ? [] : [sub] }
                return unknownKeys(g[key] as Any, kv, path: sub)
            }
        }
        if let g = given as? [Any], let k = known as? [Any] {
            return zip(g, k).enumerated().flatMap { unknownKeys($1.0, $1.1, path: "\(path)[\($0)]") }
        }
        return []
    }

    /// Checks every value a run depends on, so that a bad one stops the run before any work
    /// (a batch of 0 divided by zero, negative counts allocated 2^64 bytes, negative epochs
    /// trained forever, 0 epochs saved an untrained model).
    /// - Throws: `RecipeError` naming the first bad key (no file; `load` adds it).
    public func validate() throws {
        func fail(_ key: String, _ problem: String) -> RecipeError { RecipeError(key: key, problem: problem) }
        func positive(_ v: Double, _ key: String) throws {
            guard v.isFinite, v > 0 else { throw fail(key, "must be a positive number, got \(v)") }
        }
        func inRange(_ v: Double, _ r: ClosedRange<Double>, _ key: String, open upper: Bool = false) throws {
            guard v.isFinite, r.contains(v), !(upper && v == r.upperBound) else {
                throw fail(key, "must be in \(upper ? "[\(r.lowerBound), \(r.upperBound))" : "[\(r.lowerBound), \(r.upperBound)]"), got \(v)")
            }
        }
        func atLeast(_ v: Int, _ minimum: Int, _ key: String) throws {
            guard v >= minimum else { throw fail(key, "must be \(minimum) or more, got \(v)") }
        }
        try atLeast(data.labeledPerClass, 0, "data.labeledPerClass")
        if let n = data.unlabeledCount { try atLeast(n, 0, "data.unlabeledCount") }
        try atLeast(data.validationCount, 0, "data.validationCount")
        try atLeast(data.testCount, 0, "data.testCount")
        if let d = data.syntheticDifficulty { try inRange(Double(d), 0...100, "data.syntheticDifficulty") }
        try teacher.validate("teacher")
        for (i, s) in students.enumerated() { try s.validate("students[\(i)]") }
        try teacherTraining.validate("teacherTraining")
        try studentTraining.validate("studentTraining")
        try teacherNoise.validate("teacherNoise")
        try studentNoise.validate("studentNoise")
        try atLeast(unlabeledRatio, students.isEmpty ? 0 : 1, "unlabeledRatio")
        // Huge values passed the lower bounds and failed only after the teacher had trained: an
        // allocation of studentTraining.batchSize x (1 + ratio) images (or an Int overflow) at
        // the student's first step, of perClass x classes pool indices in the filter.
        guard unlabeledRatio <= Self.maximumUnlabeledRatio else {
            throw fail("unlabeledRatio", "must be at most \(Self.maximumUnlabeledRatio) (the official SVHN recipe uses 5), got \(unlabeledRatio)")
        }
        try inRange(Double(unlabeledLossWeight), 0...1e6, "unlabeledLossWeight")
        try positive(Double(temperature), "temperature")
        try inRange(Double(filter.threshold), 0...1, "filter.threshold")
        try inRange(Double(filter.minimumThreshold), 0...1, "filter.minimumThreshold")
        if let k = filter.perClass {
            try atLeast(k, 1, "filter.perClass")
            let classes = max(teacher.classes, 1)
            guard k <= Self.maximumPseudoLabels / classes else {
                throw fail("filter.perClass", "must be at most \(Self.maximumPseudoLabels / classes) (\(Self.maximumPseudoLabels) pseudo labels over \(classes) classes; the official ImageNet recipe keeps 130,000 per class), got \(k)")
            }
        }
    }

    /// The most unlabeled images per labeled one in a student's step (`unlabeledRatio`): far
    /// above any published recipe, small enough that a step's batch stays allocatable.
    public static let maximumUnlabeledRatio = 64

    /// The most pseudo-labelled images the filter may keep (`filter.perClass` x classes).
    public static let maximumPseudoLabels = 100_000_000
}

extension TrainingSettings {
    /// The most epochs a recipe may ask for: far beyond any real schedule (the official SVHN run is
    /// about 200), small enough that epochs x steps per epoch fits the schedule's `Int` step count.
    public static let maximumEpochs: Double = 1_000_000

    /// The most labeled images per step a recipe may ask for: 32 times the paper preset's 128;
    /// a step's activations must fit in memory on a CPU.
    public static let maximumBatchSize = 4096

    /// Checks every value (positive epochs, batch and learning rate; rates in range).
    /// - Parameter key: how the caller names these settings (a recipe key or an option).
    /// - Throws: `RecipeError` with `key.field`.
    public func validate(_ key: String) throws {
        func fail(_ field: String, _ problem: String) -> RecipeError { RecipeError(key: "\(key).\(field)", problem: problem) }
        func unit(_ v: Float, _ field: String) throws {
            guard v.isFinite, v >= 0, v < 1 else { throw fail(field, "must be in [0, 1), got \(v)") }
        }
        guard epochs.isFinite, epochs > 0 else { throw fail("epochs", "must be a positive number, got \(epochs)") }
        // The schedule counts ceil(epochs x steps per epoch) steps in an Int: 1e300 epochs trapped.
        guard epochs <= Self.maximumEpochs else { throw fail("epochs", "must be at most \(Int(Self.maximumEpochs)), got \(epochs)") }
        guard batchSize >= 1 else { throw fail("batchSize", "must be 1 or more, got \(batchSize)") }
        // A billion-image batch passed and then failed to allocate at the first step, after any
        // earlier phase had run.
        guard batchSize <= Self.maximumBatchSize else {
            throw fail("batchSize", "must be at most \(Self.maximumBatchSize) (the paper preset uses 128), got \(batchSize)")
        }
        guard peakLearningRate.isFinite, peakLearningRate > 0 else {
            throw fail("peakLearningRate", "must be a positive number, got \(peakLearningRate)")
        }
        guard warmupEpochs.isFinite, warmupEpochs >= 0 else { throw fail("warmupEpochs", "must be 0 or more, got \(warmupEpochs)") }
        // A warm-up longer than the schedule never reaches the peak rate and leaves no decay.
        guard warmupEpochs <= epochs else { throw fail("warmupEpochs", "must not exceed epochs (\(epochs)), got \(warmupEpochs)") }
        if case .staircase(let rate, let every) = decay {
            guard rate.isFinite, rate > 0, rate <= 1 else { throw fail("decay.staircase.rate", "must be in (0, 1], got \(rate)") }
            guard every.isFinite, every > 0 else { throw fail("decay.staircase.everyEpochs", "must be positive, got \(every)") }
        }
        try unit(momentum, "momentum")
        guard weightDecay.isFinite, weightDecay >= 0 else { throw fail("weightDecay", "must be 0 or more, got \(weightDecay)") }
        try unit(rmsDecay, "rmsDecay")
        guard rmsEpsilon.isFinite, rmsEpsilon > 0 else { throw fail("rmsEpsilon", "must be positive, got \(rmsEpsilon)") }
        try unit(labelSmoothing, "labelSmoothing")
        if let d = emaDecay { try unit(d, "emaDecay") }
    }
}

extension NoiseSettings {
    func validate(_ key: String) throws {
        func fail(_ field: String, _ problem: String) -> RecipeError { RecipeError(key: "\(key).\(field)", problem: problem) }
        // Each layer applies one operation to every image, so a huge count would not fail: it would
        // make every training step take hours. 15 (one per operation) is far beyond any recipe
        // (the official code uses 2).
        guard (0...15).contains(randAugmentLayers) else {
            throw fail("randAugmentLayers", "must be in [0, 15] (the official recipe uses 2), got \(randAugmentLayers)")
        }
        guard randAugmentMagnitude.isFinite, (0...30).contains(randAugmentMagnitude) else {
            throw fail("randAugmentMagnitude", "must be in [0, 30], got \(randAugmentMagnitude)")
        }
        guard dropout.isFinite, dropout >= 0, dropout < 1 else { throw fail("dropout", "must be in [0, 1), got \(dropout)") }
        guard stochasticDepth.isFinite, stochasticDepth >= 0, stochasticDepth < 1 else {
            throw fail("stochasticDepth", "must be in [0, 1), got \(stochasticDepth)")
        }
    }
}

extension ModelSpec {
    /// `ModelSpec.problem` as a recipe error at `key` (e.g. `students[1].depth`).
    func validate(_ key: String) throws {
        if let p = problem { throw RecipeError(key: "\(key).\(p.field)", problem: p.problem) }
    }
}

extension DecodingError {
    /// The dotted path of the key the error is about.
    var keyPath: String {
        let context: Context
        switch self {
        case .keyNotFound(let key, let c):
            return (c.codingPath + [key]).dottedPath
        case .typeMismatch(_, let c), .valueNotFound(_, let c), .dataCorrupted(let c): context = c
        @unknown default: return ""
        }
        return context.codingPath.dottedPath
    }

    /// What is wrong, in a few words.
    var problem: String {
        switch self {
        case .keyNotFound: return "missing"
        case .typeMismatch(let type, _): return "not \(Self.jsonKind(type))"
        case .valueNotFound(let type, _): return "null where \(Self.jsonKind(type)) is needed"
        case .dataCorrupted(let c):
            let under = (c.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return c.codingPath.isEmpty ? "not valid JSON (\(under ?? c.debugDescription))" : c.debugDescription
        @unknown default: return "\(self)"
        }
    }
}

extension DecodingError {
    /// A Swift type as the JSON a recipe writes for it ("Dictionary<String, Any>" meant nothing
    /// to someone who wrote an array where the recipe's object belongs).
    static func jsonKind(_ type: Any.Type) -> String {
        let name = String(describing: type)
        if name.hasPrefix("Dictionary") { return "an object ({...})" }
        if name.hasPrefix("Array") { return "an array ([...])" }
        switch name {
        case "Double", "Float": return "a number"
        case "Int", "Int32", "Int64", "UInt64", "UInt32": return "a whole number"
        case "String": return "a string"
        case "Bool": return "true or false"
        default: return "a \(name)"
        }
    }
}

extension [any CodingKey] {
    var dottedPath: String {
        var out = ""
        for k in self {
            if let i = k.intValue { out += "[\(i)]" } else { out += out.isEmpty ? k.stringValue : ".\(k.stringValue)" }
        }
        return out
    }
}

extension Recipe.Scale {
    /// Parses a scale name as the CLI's `--scale` and the weaver's `--scale` give it.
    /// - Throws: `PipelineError.invalid` naming the unknown scale and the known ones.
    public init(parsing name: String) throws {
        guard let scale = Self(rawValue: name) else {
            throw PipelineError.invalid("unknown scale '\(name)' (\(Self.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        self = scale
    }
}
