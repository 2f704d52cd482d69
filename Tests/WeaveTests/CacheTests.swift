import Foundation
import Testing
import WeaveRuntime
import Weave

@Suite struct CacheTests {
    let parts = KeyParts(kind: "stage", code: "c", inputs: [:], library: "l", scale: "tiny", seed: 0)

    /// A work folder as a stage would leave it.
    func finishedWork(_ cache: Cache, value: String = "[1,2,3]", blob: Data? = nil) throws -> URL {
        let work = try cache.makeWorkFolder(for: "train")
        let out = work.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("artifacts"), withIntermediateDirectories: true)
        try Data(value.utf8).write(to: out.appendingPathComponent("artifacts/train.json"))
        if let blob {
            try FileManager.default.createDirectory(at: out.appendingPathComponent("files"), withIntermediateDirectories: true)
            try blob.write(to: out.appendingPathComponent("files/weights"))
        }
        return work
    }

    /// Checksums are SHA-256 (FIPS 180-2 test vectors), also for files streamed in 1 MiB chunks.
    @Test func checksumsAreSHA256() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        let million = Data(repeating: UInt8(ascii: "a"), count: 1_000_000)
        let work = try finishedWork(cache, value: "abc", blob: million + million)
        try Data().write(to: work.appendingPathComponent("out/empty.txt"))
        let entry = try cache.commit(work: work, stage: "train", parts: parts, duration: 1)
        let files = entry.manifest.files
        #expect(files["artifacts/train.json"]?.sha256 == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(files["empty.txt"]?.sha256 == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        // Two million 'a's: crosses the 1 MiB read boundary (checked with Python's hashlib).
        #expect(files["files/weights"]?.sha256 == "bcf7f9d1b4311c3352e60502255ce09a6744df84e8f2c89f79c4b5d74933a95a")
    }

    @Test func committedEntriesReadBackVerified() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        let work = try finishedWork(cache, blob: Data(repeating: 7, count: 1000))
        try cache.commit(work: work, stage: "train", parts: parts, duration: 1.5)
        #expect(!FileManager.default.fileExists(atPath: work.path))
        let entry = try #require(cache.entry(for: parts.digest, verifyBlobs: true))
        #expect(entry.manifest.duration == 1.5)
        #expect(entry.manifest.files.keys.sorted() == ["artifacts/train.json", "files/weights"])
        #expect(Scheduler.artifacts(of: entry).keys.sorted() == ["train", "weights"])
        #expect(cache.lastRecord(stage: "train", scale: "tiny")?.key == parts.digest)
    }

    @Test func unfinishedWorkIsNeverAnEntry() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        // A stage killed mid-run leaves its work folder and nothing under entries/.
        _ = try finishedWork(cache)
        #expect(cache.entry(for: parts.digest) == nil)
        // An entry folder without its manifest (e.g. copied by hand, interrupted) is not valid either.
        let fake = cache.entryFolder(parts.digest).appendingPathComponent("out/artifacts")
        try FileManager.default.createDirectory(at: fake, withIntermediateDirectories: true)
        try Data("[1,2".utf8).write(to: fake.appendingPathComponent("train.json"))
        #expect(cache.entry(for: parts.digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: cache.entryFolder(parts.digest).path))
    }

    @Test func corruptedFilesAreDetectedAndTheEntryDropped() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        try cache.commit(work: try finishedWork(cache), stage: "train", parts: parts, duration: 1)
        let file = cache.entryFolder(parts.digest).appendingPathComponent("out/artifacts/train.json")
        try Data("[1,2,4]".utf8).write(to: file)  // same size, different bytes
        #expect(cache.entry(for: parts.digest) == nil)
        #expect(cache.manifest(for: parts.digest) == nil)
    }

    @Test func truncatedBlobsAreCaughtWithoutHashingAndFlippedBytesWhenVerifying() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        try cache.commit(work: try finishedWork(cache, blob: Data(repeating: 1, count: 4096)), stage: "train", parts: parts, duration: 1)
        let blob = cache.entryFolder(parts.digest).appendingPathComponent("out/files/weights")
        var bytes = try Data(contentsOf: blob)
        bytes[100] = 2
        try bytes.write(to: blob)
        #expect(cache.entry(for: parts.digest) != nil)  // same size: cheap check passes
        #expect(cache.entry(for: parts.digest, verifyBlobs: true) == nil)
        try cache.commit(work: try finishedWork(cache, blob: Data(repeating: 1, count: 4096)), stage: "train", parts: parts, duration: 1)
        try Data(repeating: 1, count: 10).write(to: blob)
        #expect(cache.entry(for: parts.digest) == nil)
    }

    @Test func damagedManifestIsInvalid() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        try cache.commit(work: try finishedWork(cache), stage: "train", parts: parts, duration: 1)
        let manifest = cache.entryFolder(parts.digest).appendingPathComponent("manifest.json")
        let text = try Data(contentsOf: manifest)
        try text.prefix(text.count / 2).write(to: manifest)
        #expect(cache.entry(for: parts.digest) == nil)
    }

    @Test func cleanKeepsReferencedEntriesAndAbandonedWorkGoes() throws {
        let folder = try temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = Cache(folder: folder)
        try cache.commit(work: try finishedWork(cache), stage: "train", parts: parts, duration: 1)
        var newer = parts
        newer.code = "c2"
        try cache.commit(work: try finishedWork(cache, value: "[9]"), stage: "train", parts: newer, duration: 1)
        // A work folder of a process that no longer exists.
        let dead = folder.appendingPathComponent("work/train-999999-abcd/out")
        try FileManager.default.createDirectory(at: dead, withIntermediateDirectories: true)
        let removed = try cache.clean(keeping: [])
        #expect(removed == 1)  // the record refers to the newer entry only
        #expect(cache.entry(for: newer.digest) != nil)
        #expect(cache.entry(for: parts.digest) == nil)
        #expect(!FileManager.default.fileExists(atPath: dead.deletingLastPathComponent().path))
        // A stage deleted from the chapters: its record and entry go too.
        #expect(try cache.clean(keeping: [], stages: ["other"]) == 1)
        #expect(cache.lastRecord(stage: "train", scale: "tiny") == nil)
    }
}
