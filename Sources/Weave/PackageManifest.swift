import Foundation
import ProcessRunner
import SystemSupport

/// The parts of the project's Package.swift the weaver needs: which library products exist
/// (to depend on and import them) and which source folders each one compiles (to fingerprint).
/// Read with `swift package dump-package` so the answer is SwiftPM's own.
public struct PackageManifest: Sendable, Codable, Equatable {
    /// One target of the project.
    public struct Target: Sendable, Codable, Equatable {
        /// Target name.
        public var name: String
        /// Its source folder relative to the project root.
        public var path: String
        /// Names of the targets it depends on (products of other packages are left out).
        public var dependencies: [String]
        /// True for regular and system-library targets, whose sources are fingerprinted.
        var isLibraryCode: Bool
        /// Digest of the target's whole declaration (settings such as -Ounchecked included), so
        /// that a build-flag change reaches the keys but an unrelated Package.swift edit does not.
        public var declaration: String
    }
    /// The package's name.
    public var name: String
    /// Library products: name -> target names.
    public var libraries: [String: [String]]
    /// Targets by name.
    public var targets: [String: Target]

    /// A manifest as given (tests); `load(root:cacheFolder:)` reads a real one.
    public init(name: String, libraries: [String: [String]], targets: [String: Target]) {
        self.name = name
        self.libraries = libraries
        self.targets = targets
    }

    /// Loads the manifest, reusing a copy cached next to the weave cache while Package.swift is unchanged.
    public static func load(root: URL, cacheFolder: URL) throws -> PackageManifest {
        let packageFile = root.appendingPathComponent("Package.swift")
        guard let contents = try? Data(contentsOf: packageFile) else {
            // Foundation's NSCocoaErrorDomain text named neither the file's role nor the fix.
            throw WeaveErrors([WeaveError("no readable Package.swift at \(packageFile.path): stages compile against the "
                                          + "project's libraries, so --root must name the project folder (Package.swift and chapters/)")])
        }
        let digest = Digest.hex(contents)
        let cached = cacheFolder.appendingPathComponent("manifest-v2-\(digest.prefix(16)).json")
        if let data = try? Data(contentsOf: cached), let m = try? JSONDecoder().decode(PackageManifest.self, from: data) {
            return m
        }
        // Its own scratch path: the project's .build may be locked by a running `swift test`
        // (the end-to-end test runs the weaver from inside one), and waiting on it would deadlock.
        let result = try ProcessRunner.run(["swift", "package", "--package-path", root.path,
                                    "--scratch-path", cacheFolder.appendingPathComponent("manifest-scratch").path,
                                    "dump-package"], in: root)
        guard result.status == 0 else {
            throw WeaveErrors([WeaveError("swift package dump-package failed:\n\(result.stderr)")])
        }
        let manifest = try parse(dump: Data(result.stdout.utf8))
        try? FileManager.default.createDirectory(at: cacheFolder, withIntermediateDirectories: true)
        try? AtomicFile.write(JSONEncoder().encode(manifest), to: cached)
        return manifest
    }

    /// Parses `dump-package` JSON. Loosely typed on purpose: its schema is not a stable API, so
    /// only the few fields needed are read.
    public static func parse(dump: Data) throws -> PackageManifest {
        guard let root = try JSONSerialization.jsonObject(with: dump) as? [String: Any] else {
            throw WeaveErrors([WeaveError("unexpected dump-package output")])
        }
        let name = root["name"] as? String ?? "package"
        var libraries: [String: [String]] = [:]
        for product in root["products"] as? [[String: Any]] ?? [] {
            guard let pname = product["name"] as? String,
                  let type = product["type"] as? [String: Any], type["library"] != nil else { continue }
            libraries[pname] = product["targets"] as? [String] ?? []
        }
        var targets: [String: Target] = [:]
        for target in root["targets"] as? [[String: Any]] ?? [] {
            guard let tname = target["name"] as? String else { continue }
            let type = target["type"] as? String ?? "regular"
            let path = target["path"] as? String ?? ((type == "test" ? "Tests/" : "Sources/") + tname)
            var deps: [String] = []
            for dep in target["dependencies"] as? [[String: Any]] ?? [] {
                // byName and target both name targets of this package; products of other
                // packages are pinned by Package.resolved, which the fingerprint includes.
                if let byName = dep["byName"] as? [Any], let n = byName.first as? String { deps.append(n) }
                if let t = dep["target"] as? [Any], let n = t.first as? String { deps.append(n) }
            }
            let canonical = (try? JSONSerialization.data(withJSONObject: target, options: [.sortedKeys])) ?? Data()
            targets[tname] = Target(name: tname, path: path, dependencies: deps,
                                    isLibraryCode: type == "regular" || type == "system", declaration: Digest.hex(canonical))
        }
        return PackageManifest(name: name, libraries: libraries, targets: targets)
    }

    /// Targets reachable from the given ones (themselves included).
    public func closure(of names: [String]) -> [String] {
        var seen: Set<String> = []
        var stack = names
        while let n = stack.popLast() {
            guard seen.insert(n).inserted, let t = targets[n] else { continue }
            stack += t.dependencies
        }
        return seen.filter { targets[$0] != nil }.sorted()
    }
}
