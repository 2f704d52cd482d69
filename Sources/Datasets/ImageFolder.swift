import Dispatch
import Foundation
import SystemSupport

/// A dataset from folders of PNG files (`--dataset folder:DIR`):
///
///     DIR/labeled/<class>/*.png      class names = folder names, sorted
///     DIR/unlabeled/**/*.png         any depth
///     DIR/test/<class>/*.png         optional
///     DIR/val/<class>/*.png          optional
///
/// Images are decoded in parallel, fitted to `size` x `size` RGB, and cached as one byte file
/// keyed by the file list and a hash of each file's bytes, so a second run starts at once.
public struct ImageFolder: Sendable {
    /// DIR/labeled, labels = index of the class folder in `classNames`.
    public var labeled: ImageSet
    /// DIR/unlabeled at any depth, labels -1, in sorted path order.
    public var unlabeled: ImageSet
    /// Paths of the unlabeled images, relative to DIR, in set order.
    public var unlabeledPaths: [String]
    /// DIR/test, labeled like `labeled`; nil when absent.
    public var test: ImageSet?
    /// DIR/val, labeled like `labeled`; nil when absent.
    public var validation: ImageSet?
    /// The class folders under DIR/labeled, sorted; label k is `classNames[k]`.
    public var classNames: [String]
    /// Files skipped with `skipUnreadable`, with libpng's reason.
    public var skipped: [(path: String, reason: String)]

    /// How to read a folder.
    public struct Options: Sendable {
        /// Edge of the square RGB images produced, in pixels (32 for SVHN-sized models).
        public var size: Int
        /// How images of another shape become `size` x `size`.
        public var fit: ImageFit
        /// Whether files libpng cannot decode are skipped (and listed in `skipped`) instead of failing the load.
        public var skipUnreadable: Bool
        /// Threads decoding and hashing in parallel (the result does not depend on it).
        public var threads: Int
        /// Where decoded folders are cached (nil: no cache).
        public var cacheDirectory: URL?
        /// Images above this many pixels are refused before decoding (decompression bombs).
        public var maxPixels: Int

        /// Options; see the properties.
        public init(size: Int = 32, fit: ImageFit = .resize, skipUnreadable: Bool = false, threads: Int = 2,
                    cacheDirectory: URL? = ImageFolder.defaultCacheDirectory, maxPixels: Int = PNGDecoder.defaultMaxPixels) {
            self.size = size; self.fit = fit; self.skipUnreadable = skipUnreadable; self.threads = threads
            self.cacheDirectory = cacheDirectory; self.maxPixels = maxPixels
        }
    }

    /// $XDG_CACHE_HOME/noisy-student/folders, else ~/.cache/noisy-student/folders; nil without either variable.
    public static var defaultCacheDirectory: URL? {
        let env = ProcessInfo.processInfo.environment
        guard let base = env["XDG_CACHE_HOME"] ?? env["HOME"].map({ $0 + "/.cache" }) else { return nil }
        return URL(fileURLWithPath: base).appendingPathComponent("noisy-student/folders")
    }

    /// Loads a dataset folder. `progress(done, total)` is called as files are decoded.
    public static func load(_ directory: String, options: Options = Options(),
                            progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> ImageFolder {
        let root = URL(fileURLWithPath: directory)
        let labeledDir = root.appendingPathComponent("labeled")
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: labeledDir.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.missing(file: directory, what: "a labeled/ folder with one subfolder per class")
        }
        let classNames = try subfolders(labeledDir)
        try checkClasses(classNames, in: labeledDir)
        func classified(_ dir: URL, required: Bool) throws -> [(String, Int32)]? {
            guard FileManager.default.fileExists(atPath: dir.path) else {
                if required { throw DatasetError.missing(file: dir.path, what: "folder") }
                return nil
            }
            var files: [(String, Int32)] = []
            for name in try subfolders(dir) {
                guard let c = classNames.firstIndex(of: name) else {
                    throw DatasetError.malformed(file: dir.appendingPathComponent(name).path, detail: "class '\(name)' is not among labeled/'s classes \(classNames)")
                }
                files += try classImages(dir.appendingPathComponent(name)).map { ($0, Int32(c)) }
            }
            return files
        }
        let labeledFiles = try classified(labeledDir, required: true) ?? []
        let unlabeledDir = root.appendingPathComponent("unlabeled")
        let unlabeledFiles = try poolImages(unlabeledDir).map { ($0, Int32(-1)) }
        let testFiles = try classified(root.appendingPathComponent("test"), required: false)
        let valFiles = try classified(root.appendingPathComponent("val"), required: false)

        let all = labeledFiles + unlabeledFiles + (testFiles ?? []) + (valFiles ?? [])
        let decoded = try decodeAll(all.map(\.0), options: options, progress: progress)
        var skipped: [(String, String)] = []
        var offset = 0
        func take(_ files: [(String, Int32)]) -> (ImageSet, [String]) {
            var set = ImageSet(height: options.size, width: options.size, channels: 3)
            var paths: [String] = []
            for (k, (path, label)) in files.enumerated() {
                switch decoded[offset + k] {
                case .success(let px): set.append(image: px, label: label); paths.append(path)
                case .failure(let e): skipped.append((path, "\(e)"))
                }
            }
            offset += files.count
            return (set, paths)
        }
        let labeled = take(labeledFiles).0
        let (unlabeled, unlabeledPaths) = take(unlabeledFiles)
        try checkDecoded(labeled, classNames: classNames, dir: labeledDir)
        guard unlabeled.count > 0 else { throw DatasetError.missing(file: unlabeledDir.path, what: "readable PNG images (all were skipped)") }
        let test = testFiles.map { take($0).0 }
        let validation = valFiles.map { take($0).0 }
        let rootPath = root.standardizedFileURL.path + "/"
        return ImageFolder(labeled: labeled, unlabeled: unlabeled,
                           unlabeledPaths: unlabeledPaths.map { $0.hasPrefix(rootPath) ? String($0.dropFirst(rootPath.count)) : $0 },
                           test: test, validation: validation, classNames: classNames,
                           skipped: skipped)
    }

    /// Decodes and fits images (for `classify`): one result per path, in order.
    public static func decodeAll(_ paths: [String], options: Options,
                                 progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> [Result<[UInt8], DatasetError>] {
        let key = try cacheKey(paths, options: options)
        if let cached = readCache(key: key, count: paths.count, options: options) { return cached }
        let per = options.size * options.size * 3
        let results = Results(count: paths.count)
        let counter = Counter()
        let threads = max(1, options.threads)
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var i = t
            while i < paths.count {
                do {
                    let img = try PNGDecoder.decodeRGB(path: paths[i], maxPixels: options.maxPixels)
                    results.set(i, .success(options.fit.apply(img, width: options.size, height: options.size)))
                } catch let e as DatasetError {
                    results.set(i, .failure(e))
                } catch {
                    results.set(i, .failure(.unreadable(file: paths[i], reason: "\(error)")))
                }
                let done = counter.increment()
                if done % 256 == 0 || done == paths.count { progress?(done, paths.count) }
                i += threads
            }
        }
        let out = results.values
        if !options.skipUnreadable, let bad = out.first(where: { if case .failure = $0 { return true } else { return false } }),
           case .failure(let e) = bad {
            throw e
        }
        writeCache(key: key, results: out, per: per, options: options)
        return out
    }

    // MARK: Files

    static func subfolders(_ dir: URL) throws -> [String] {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        return names.filter { n in
            var d: ObjCBool = false
            return !n.hasPrefix(".") && FileManager.default.fileExists(atPath: dir.appendingPathComponent(n).path, isDirectory: &d) && d.boolValue
        }.sorted()
    }

    /// The .png files in a folder (or its whole tree), sorted.
    public static func pngFiles(_ dir: URL, recursive: Bool) throws -> [String] {
        var out: [String] = []
        if recursive {
            guard let e = FileManager.default.enumerator(atPath: dir.path) else { return [] }
            while let rel = e.nextObject() as? String {
                if rel.lowercased().hasSuffix(".png") { out.append(dir.appendingPathComponent(rel).path) }
            }
        } else {
            out = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.lowercased().hasSuffix(".png") }
                .map { dir.appendingPathComponent($0).path }
        }
        return out.sorted()
    }

    // MARK: Cache (one byte file per folder state)

    /// Keyed by content, not by size and modification time: `cp -p`, `rsync -a` and `tar`
    /// restore mtimes, so a replaced file of the same size would otherwise keep its old pixels.
    /// Hashing the bytes costs little next to decoding them.
    static func cacheKey(_ paths: [String], options: Options) throws -> String {
        let digests = Digests(count: paths.count)
        let threads = max(1, min(options.threads, paths.count))
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            for i in stride(from: t, to: paths.count, by: threads) {
                guard let bytes = FileManager.default.contents(atPath: paths[i]) else { continue }  // decoding reports it
                digests.set(i, MessageDigest.hex(.md5, of: bytes))
            }
        }
        let md5 = MessageDigest(.md5)
        let header = "v2 \(options.size) \(options.fit.rawValue) \(options.skipUnreadable)\n"
        md5.update(Array(header.utf8))
        for (p, digest) in zip(paths, digests.values) { md5.update(Array("\(p)\t\(digest)\n".utf8)) }
        return md5.finalize()
    }

    static func cacheURL(_ key: String, _ options: Options) -> URL? {
        options.cacheDirectory?.appendingPathComponent("\(key).bin")
    }

    /// Layout: per image a status byte (always 1: only fully decoded folders are cached) and its
    /// pixels. A file of the wrong size or with another status is ignored and rebuilt.
    static func readCache(key: String, count: Int, options: Options) -> [Result<[UInt8], DatasetError>]? {
        guard let url = cacheURL(key, options), let data = try? Data(contentsOf: url) else { return nil }
        let per = options.size * options.size * 3
        guard data.count == count * (per + 1) else { return nil }
        return data.withUnsafeBytes { raw -> [Result<[UInt8], DatasetError>]? in
            guard (0..<count).allSatisfy({ raw[$0 * (per + 1)] == 1 }) else { return nil }
            return (0..<count).map { i in .success(Array(raw[(i * (per + 1) + 1)..<((i + 1) * (per + 1))])) }
        }
    }

    static func writeCache(key: String, results: [Result<[UInt8], DatasetError>], per: Int, options: Options) {
        guard let url = cacheURL(key, options) else { return }
        guard results.allSatisfy({ if case .success = $0 { return true } else { return false } }) else { return }
        var data = Data(capacity: results.count * (per + 1))
        for r in results { if case .success(let px) = r { data.append(1); data.append(contentsOf: px) } }
        try? AtomicFile.write(data, to: url)  // a cache: failing to write only costs time
    }
}

/// Per-index result slots written from several threads (each index by exactly one thread).
private final class Results: @unchecked Sendable {
    private var storage: [Result<[UInt8], DatasetError>?]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: nil, count: count) }
    func set(_ i: Int, _ r: Result<[UInt8], DatasetError>) { lock.lock(); storage[i] = r; lock.unlock() }
    var values: [Result<[UInt8], DatasetError>] {
        storage.map { $0 ?? .failure(.unreadable(file: "?", reason: "not decoded")) }
    }
}

/// Per-file digests written from several threads (each index by one thread).
private final class Digests: @unchecked Sendable {
    private var storage: [String]
    private let lock = NSLock()
    init(count: Int) { storage = Array(repeating: "unreadable", count: count) }
    func set(_ i: Int, _ d: String) { lock.lock(); storage[i] = d; lock.unlock() }
    var values: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}

private final class Counter: @unchecked Sendable {
    private var n = 0
    private let lock = NSLock()
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; n += 1; return n }
}

extension DataSplits {
    /// Splits given directly (image folders arrive already split by the user).
    public static func from(labeled: ImageSet, unlabeled: UnlabeledPool, validation: ImageSet, test: ImageSet) -> DataSplits {
        DataSplits(labeled: labeled, unlabeled: unlabeled, validation: validation, test: test)
    }
}
