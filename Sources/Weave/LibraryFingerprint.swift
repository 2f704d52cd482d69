import Foundation
import SystemSupport

/// Which library code a stage kind runs against, and a hash of it.
///
/// Compute stages hash every library except the chart library (and what they depend on):
/// changing how charts draw never re-runs training. Figure and table code can call any library
/// directly (a table computed by an engine function, with no compute stage between), so it hashes
/// everything it can reach: the chart library, the runtime and every compute library. Restyling
/// a figure still re-runs only that figure (its code changed, not a library).
///
/// Swift and C sources are hashed by their meaning where that is safe to decide without a
/// compiler: comments dropped, runs of spaces and tabs one space, runs of line breaks one line
/// break (Swift statements end at line breaks, so those are kept), string literals untouched.
public struct LibraryFingerprint: Sendable, Equatable {
    /// Source folders (relative to the root) each kind depends on.
    public var computeFolders: [String]
    /// Source folders figure and table stages depend on.
    public var presentationFolders: [String]
    /// Digests of the targets' declarations in Package.swift, per kind.
    public var computeDeclarations: [String]
    /// Digests of the presentation targets' declarations.
    public var presentationDeclarations: [String]

    /// Products the weaver must not depend on from stage code: itself.
    static let excludedProducts: Set<String> = ["Weave"]
    /// Products that only present results.
    static let presentationProducts: Set<String> = ["Charts", "WeaveRuntime"]

    /// Folders and declarations as given (tests); `init(manifest:)` derives them from a package.
    public init(computeFolders: [String], presentationFolders: [String],
                computeDeclarations: [String] = [], presentationDeclarations: [String] = []) {
        self.computeFolders = computeFolders
        self.presentationFolders = presentationFolders
        self.computeDeclarations = computeDeclarations
        self.presentationDeclarations = presentationDeclarations
    }

    /// Splits the package's library targets (and everything they depend on) into what compute and
    /// presentation stages can reach; the weaver's own product is left out of both.
    public init(manifest: PackageManifest) {
        let usable = manifest.libraries.filter { !Self.excludedProducts.contains($0.key) }
        let computeRoots = usable.filter { !Self.presentationProducts.contains($0.key) || $0.key == "WeaveRuntime" }.flatMap(\.value)
        let presentationRoots = usable.flatMap(\.value)
        func folders(_ roots: [String]) -> [String] {
            manifest.closure(of: roots).compactMap { manifest.targets[$0]?.path }.sorted()
        }
        func declarations(_ roots: [String]) -> [String] {
            manifest.closure(of: roots).compactMap { manifest.targets[$0].map { "\($0.name) \($0.declaration)" } }.sorted()
        }
        self.init(computeFolders: folders(computeRoots), presentationFolders: folders(presentationRoots),
                  computeDeclarations: declarations(computeRoots), presentationDeclarations: declarations(presentationRoots))
    }

    /// Hashes every file under the folders, the targets' declarations (build flags) and
    /// Package.resolved (pinned dependency versions change the code that runs too).
    /// `contents`: a folder where each digest's per-file lines are kept (`DIGEST.txt`), so that
    /// `weave list` can name the files that changed since a stage's last build.
    public func digests(root: URL, contents: URL? = nil) throws -> (compute: String, presentation: String) {
        (try Self.digest(folders: computeFolders, declarations: computeDeclarations, root: root, contents: contents),
         try Self.digest(folders: presentationFolders, declarations: presentationDeclarations, root: root, contents: contents))
    }

    /// The files (or targets) whose lines differ between two digests' kept contents; nil when
    /// either is unknown.
    static func changedFiles(from old: String, to new: String, contents: URL) -> [String]? {
        func lines(_ digest: String) -> [String: String]? {
            guard let text = try? String(contentsOf: contents.appendingPathComponent(digest + ".txt"), encoding: .utf8) else { return nil }
            var map: [String: String] = [:]
            for line in text.split(separator: "\n") {
                guard let space = line.lastIndex(of: " ") else { continue }
                map[String(line[..<space])] = String(line[line.index(after: space)...])
            }
            return map
        }
        guard let a = lines(old), let b = lines(new) else { return nil }
        return Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted()
    }

    static func digest(folders: [String], declarations: [String], root: URL, contents: URL? = nil) throws -> String {
        var lines = declarations.map { "target \($0)" }
        for file in ["Package.resolved"] {
            let url = root.appendingPathComponent(file)
            if FileManager.default.fileExists(atPath: url.path) { lines.append("\(file) \(try Digest.file(url))") }
        }
        for folder in folders {
            let base = root.appendingPathComponent(folder)
            guard let walker = FileManager.default.enumerator(at: base, includingPropertiesForKeys: [.isRegularFileKey],
                                                              options: [.skipsHiddenFiles]) else { continue }
            var files: [String] = []
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                files.append(url.standardizedFileURL.path)
            }
            for path in files.sorted() {
                let relative = folder + path.dropFirst(base.standardizedFileURL.path.count)
                lines.append("\(relative) \(try Self.sourceDigest(URL(fileURLWithPath: path)))")
            }
        }
        let text = lines.joined(separator: "\n")
        let digest = Digest.hex(text)
        if let contents {
            let file = contents.appendingPathComponent(digest + ".txt")
            if !FileManager.default.fileExists(atPath: file.path) {
                try? FileManager.default.createDirectory(at: contents, withIntermediateDirectories: true)
                try? AtomicFile.write(Data(text.utf8), to: file)
            }
        }
        return digest
    }

    /// Digest of one library file: of its normalised text for Swift and C sources, of its bytes otherwise.
    static func sourceDigest(_ url: URL) throws -> String {
        guard ["swift", "c", "h"].contains(url.pathExtension),
              let text = String(data: try Data(contentsOf: url), encoding: .utf8) else { return try Digest.file(url) }
        return Digest.hex("normalised-v1\n" + SourceNormaliser.normalise(text))
    }
}
