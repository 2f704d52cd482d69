import Foundation
import SystemSupport
import WeaveRuntime

/// What a cache entry holds, written last (after every file it lists) inside the entry.
public struct EntryManifest: Sendable, Codable, Equatable {
    /// One output file's checksum.
    public struct File: Sendable, Codable, Equatable {
        /// Lowercase hex SHA-256 of the file's bytes.
        public var sha256: String
        /// Size in bytes (checked on every read; the checksum only when verifying).
        public var size: Int
    }
    /// Name of the stage that made the entry.
    public var stage: String
    /// The entry's key: `parts.digest`, also its folder name.
    public var key: String
    /// What the key hashed, kept so a later build can say what changed.
    public var parts: KeyParts
    /// Relative path inside `out/` -> checksum.
    public var files: [String: File]
    /// Seconds the stage took when it ran.
    public var duration: Double
    /// When the entry was committed.
    public var created: Date
    /// The engine's kernel path the stage ran with (`ENGINE_ISA`); nil in entries made before it
    /// was recorded. Results from different paths can differ in the last digits.
    var enginePath: String? = nil
    /// BLAS threads per stage and stages at a time of the build that made it (nil in entries
    /// made before this was recorded): a cache hit's provenance is its own, not this build's.
    public var threads: Int?
    /// Stages at a time of the build that made it (nil in older entries).
    public var jobs: Int?

    /// Digest of what the stage hands to the stages that need it: the names and checksums of its
    /// `artifacts/` and `files/` (not its printed output or figure). Equal digests mean
    /// byte-identical inputs downstream.
    public var publishedDigest: String {
        let published = files.filter {
            $0.key.hasPrefix(StageProtocol.artifactsFolder + "/") || $0.key.hasPrefix(StageProtocol.filesFolder + "/")
        }
        return Digest.hex(published.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value.sha256)" }.joined(separator: "\n"))
    }
}

/// The last key a stage was built with at a scale, so `weave list` can explain staleness and
/// `weave clean` knows what is still referred to.
public struct StageRecord: Sendable, Codable, Equatable {
    /// The stage's name.
    public var stage: String
    /// The key it was last built with at `parts.scale`.
    public var key: String
    /// That key's parts.
    public var parts: KeyParts
    /// Seconds that build took.
    public var duration: Double
}

/// A verified cache entry.
public struct CacheEntry: Sendable {
    /// The entry's folder, entries/KEY.
    public var folder: URL
    /// Its manifest, checked against the files.
    public var manifest: EntryManifest
    /// The stage's outputs (`artifacts/`, `files/`, `figure.svg`, ...).
    public var output: URL { folder.appendingPathComponent("out") }
}

/// Content-addressed store: `entries/KEY/{manifest.json,out/...}`.
///
/// An entry appears by renaming a finished folder into place, so a reader sees all of it or
/// none of it; a stage killed mid-run leaves only a folder under `work/`. Files are checked
/// against the manifest's checksums when read, so a damaged entry is dropped and recomputed.
public struct Cache: Sendable {
    /// The cache's root folder (holds entries/, work/, records/ and the lock).
    public let folder: URL

    /// A cache rooted at `folder`; nothing is created until something is written.
    public init(folder: URL) { self.folder = folder }

    var entries: URL { folder.appendingPathComponent("entries") }
    var work: URL { folder.appendingPathComponent("work") }
    var records: URL { folder.appendingPathComponent("records") }

    /// Where the entry for `key` lives (whether or not it exists).
    public func entryFolder(_ key: String) -> URL { entries.appendingPathComponent(key) }

    /// The manifest without verifying files (cheap; for `weave list`).
    public func manifest(for key: String) -> EntryManifest? {
        guard let data = try? Data(contentsOf: entryFolder(key).appendingPathComponent("manifest.json")),
              let m = try? Self.decoder.decode(EntryManifest.self, from: data), m.key == key else { return nil }
        return m
    }

    /// A verified entry, or nil. Small files are always checksummed; large blobs (`files/`) only
    /// when `verifyBlobs` (someone is about to read them), otherwise only their size is checked.
    /// A bad entry is removed so the next build recomputes it.
    public func entry(for key: String, verifyBlobs: Bool = false) -> CacheEntry? {
        let folder = entryFolder(key)
        guard let manifest = manifest(for: key) else {
            if FileManager.default.fileExists(atPath: folder.path) { discard(folder) }
            return nil
        }
        let entry = CacheEntry(folder: folder, manifest: manifest)
        for (path, expected) in manifest.files {
            let url = entry.output.appendingPathComponent(path)
            let isBlob = path.hasPrefix(StageProtocol.filesFolder + "/")
            guard let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int,
                  size == expected.size,
                  !(verifyBlobs || !isBlob) || (try? Digest.file(url)) == expected.sha256 else {
                discard(folder)
                return nil
            }
        }
        return entry
    }

    /// A stage's full key from its actual inputs on disk: `parts` (from `KeyCalculator`) with
    /// each need's `publishedDigest`, read from the manifest of the need's entry under
    /// `needKeys[need]` (the key that need has in this build; its files are checked against
    /// that manifest when read). A need that re-ran and published the same bytes gives the same
    /// key, so what follows it stays cached (early cutoff). The scheduler calls this when a
    /// stage's needs are done; a cluster job can call it at its start to find its result
    /// already cached. Throws naming a need without a readable entry.
    public func resolve(_ parts: KeyParts, needKeys: [String: String]) throws -> KeyParts {
        var resolved = parts
        for need in parts.inputs.keys.sorted() {
            guard let key = needKeys[need], let manifest = manifest(for: key) else {
                throw WeaveError("the cache entry of \(need) is missing or damaged")
            }
            resolved.inputs[need] = manifest.publishedDigest
        }
        return resolved
    }

    /// A fresh folder for one run of a stage.
    public func makeWorkFolder(for stage: String) throws -> URL {
        let url = work.appendingPathComponent("\(stage)-\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url.appendingPathComponent("out"), withIntermediateDirectories: true)
        return url
    }

    /// Turns a finished work folder into the entry for `key`: checksums, manifest, one rename.
    @discardableResult
    public func commit(work: URL, stage: String, parts: KeyParts, duration: Double, threads: Int? = nil,
                       jobs: Int? = nil, enginePath: String? = RunSettings.engineKernelPath()) throws -> CacheEntry {
        let key = parts.digest
        let out = work.appendingPathComponent("out")
        var files: [String: EntryManifest.File] = [:]
        let base = out.standardizedFileURL.path
        if let walker = FileManager.default.enumerator(at: out, includingPropertiesForKeys: [.isRegularFileKey]) {
            for case let url as URL in walker {
                guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
                let path = String(url.standardizedFileURL.path.dropFirst(base.count + 1))
                let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
                files[path] = EntryManifest.File(sha256: try Digest.file(url), size: size)
            }
        }
        let manifest = EntryManifest(stage: stage, key: key, parts: parts, files: files, duration: duration, created: Date(),
                                     enginePath: enginePath, threads: threads, jobs: jobs)
        try AtomicFile.write(Self.encoder.encode(manifest), to: work.appendingPathComponent("manifest.json"))
        try FileManager.default.createDirectory(at: entries, withIntermediateDirectories: true)
        let target = entryFolder(key)
        if FileManager.default.fileExists(atPath: target.path) { discard(target) }
        guard rename(work.path, target.path) == 0 else {
            throw WeaveError("could not move \(work.path) into the cache (errno \(errno))")
        }
        try record(StageRecord(stage: stage, key: key, parts: parts, duration: duration))
        return CacheEntry(folder: target, manifest: manifest)
    }

    /// Moves a bad entry aside first (atomic), then deletes it, so no reader sees it half-deleted.
    func discard(_ folder: URL) {
        let trash = work.appendingPathComponent("trash-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        if rename(folder.path, trash.path) == 0 { try? FileManager.default.removeItem(at: trash) }
    }

    // MARK: Records

    func recordURL(stage: String, scale: String) -> URL {
        records.appendingPathComponent(Digest.hex(scale).prefix(12) + "-" + scale.filter { $0.isLetter || $0.isNumber })
            .appendingPathComponent(stage + ".json")
    }

    /// Remembers `record` as its stage's last build at its scale (atomic write); throws on I/O failure.
    public func record(_ record: StageRecord) throws {
        try AtomicFile.write(Self.encoder.encode(record), to: recordURL(stage: record.stage, scale: record.parts.scale))
    }

    /// The stage's last build at `scale`, or nil if none (or unreadable).
    public func lastRecord(stage: String, scale: String) -> StageRecord? {
        guard let data = try? Data(contentsOf: recordURL(stage: stage, scale: scale)) else { return nil }
        return try? Self.decoder.decode(StageRecord.self, from: data)
    }

    // MARK: Cleaning

    /// Removes entries no record and no current key refers to, and leftover work folders of
    /// processes that are gone. `stages`: names of the stages that still exist (nil: unknown,
    /// keep every record); records of other stages are dropped with their entries.
    /// Returns how many entries were removed.
    @discardableResult
    public func clean(keeping current: Set<String>, stages: Set<String>? = nil) throws -> Int {
        var keep = current
        if let walker = FileManager.default.enumerator(at: records, includingPropertiesForKeys: nil) {
            for case let url as URL in walker where url.pathExtension == "json" {
                guard let data = try? Data(contentsOf: url), let r = try? Self.decoder.decode(StageRecord.self, from: data) else { continue }
                if let stages, !stages.contains(r.stage) {
                    try? FileManager.default.removeItem(at: url)
                } else {
                    keep.insert(r.key)
                }
            }
        }
        var removed = 0
        for name in (try? FileManager.default.contentsOfDirectory(atPath: entries.path)) ?? [] where !keep.contains(name) {
            discard(entryFolder(name))
            removed += 1
        }
        removeAbandonedWork()
        return removed
    }

    /// Work folders whose process no longer exists (killed builds).
    func removeAbandonedWork() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: work.path)) ?? [] {
            let parts = name.split(separator: "-")
            if name.hasPrefix("trash-") {
                try? FileManager.default.removeItem(at: work.appendingPathComponent(name))
                continue
            }
            // Names are STAGE-PID-RANDOM; stage names may contain '-', so the pid is second to last.
            guard parts.count >= 3, let pid = Int32(parts[parts.count - 2]) else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH {
                try? FileManager.default.removeItem(at: work.appendingPathComponent(name))
            }
        }
    }

    static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .prettyPrinted]
        e.dateEncodingStrategy = .iso8601
        return e
    }

    static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }
}
