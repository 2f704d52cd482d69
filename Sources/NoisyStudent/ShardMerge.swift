import Datasets
import Foundation
import SystemSupport

/// Joins the label files of `predict --shard i/N` (named `pseudo-IT.shard-I-of-N.labels`) into
/// one, refusing anything but N shards of one pool that cover it exactly once: a missing or
/// mismatched shard would otherwise leave a pool with holes that `filter` happily filters.
public enum ShardMerge {
    /// A shard file's place: shard `index` of `count`.
    public struct Name: Equatable, Sendable {
        /// The shard's 0-based position, below `count`.
        public var index: Int
        /// N: how many shards the pool was cut into.
        public var count: Int
    }

    /// Parses `pseudo-IT.shard-I-of-N.labels` (nil for any other name).
    public static func parse(_ fileName: String, iteration: Int) -> Name? {
        let prefix = "pseudo-\(iteration).shard-", suffix = ".labels"
        guard fileName.hasPrefix(prefix), fileName.hasSuffix(suffix) else { return nil }
        let parts = fileName.dropFirst(prefix.count).dropLast(suffix.count).components(separatedBy: "-of-")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n > 0, (0..<n).contains(i) else { return nil }
        return Name(index: i, count: n)
    }

    /// Which teacher labelled which pool, as `predict` records it in each shard: the first 16
    /// hex digits of the SHA-256 of the teacher's checkpoint file and of the pool's pixels.
    /// - Throws: when the checkpoint cannot be read.
    public static func source(teacher: URL, pool: ImageSet) throws -> String {
        let digest = MessageDigest(.sha256)
        digest.update(Data("\(pool.height)x\(pool.width)x\(pool.channels)\n".utf8))
        pool.pixels.withUnsafeBytes { digest.update($0) }
        return "teacher \(try MessageDigest.file(.sha256, at: teacher).prefix(16)), pool \(digest.finalize().prefix(16))"
    }

    /// Merges the shard files of `iteration` in `directory`.
    /// - Returns: the merged labels and the pool size.
    /// - Throws: `PipelineError` naming the missing, extra or inconsistent shards.
    public static func merge(directory: URL, iteration: Int) throws -> (labels: PseudoLabels, poolCount: Int, source: String?) {
        let prefix = "pseudo-\(iteration).shard-"
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []).filter { $0.hasPrefix(prefix) }.sorted()
        guard !names.isEmpty else {
            throw PipelineError.missingFile(directory.appendingPathComponent(prefix + "*").path, "no shards to merge; run `predict --shard i/N`")
        }
        var shards: [(file: String, name: Name)] = []
        for f in names {
            guard let n = parse(f, iteration: iteration) else {
                throw PipelineError.invalid("\(directory.appendingPathComponent(f).path): not a shard name (pseudo-\(iteration).shard-I-of-N.labels)")
            }
            shards.append((f, n))
        }
        let counts = Set(shards.map(\.name.count))
        guard counts.count == 1, let total = counts.first else {
            let list = shards.map { "\($0.file) (\($0.name.count) shards)" }.joined(separator: ", ")
            throw PipelineError.invalid("\(directory.path): shards of different splits of the pool: \(list); keep one --shard i/N split")
        }
        var read: [(file: String, name: Name, labels: PseudoLabels, pool: Int?, source: String?)] = []
        for s in shards {
            let (labels, pool, source) = try PseudoLabelFile.readWithPool(directory.appendingPathComponent(s.file))
            read.append((s.file, s.name, labels, pool, source))
        }
        // Shards of another teacher (or of another data set's pool of the same size) would merge
        // into one file of mixed labels without an error.
        let sources = read.compactMap { s in s.source.map { (file: s.file, source: $0) } }
        guard Set(sources.map(\.source)).count <= 1 else {
            let list = sources.map { "\($0.file): \($0.source)" }.joined(separator: ", ")
            throw PipelineError.invalid("\(directory.path): shards labelled by different teachers or pools (\(list)); rerun `predict --shard i/N` for the odd ones with one teacher")
        }
        let pools = Set(read.compactMap(\.pool))
        guard pools.count <= 1 else {
            let list = read.map { "\($0.file): \($0.pool.map(String.init) ?? "?") images" }.joined(separator: ", ")
            throw PipelineError.invalid("\(directory.path): shards label pools of different sizes (\(list)); were they made from one data set?")
        }
        // Without a recorded size (older files), the last shard's end is the pool's end.
        guard let pool = pools.first ?? read.first(where: { $0.name.index == total - 1 }).map({ ($0.labels.indices.last ?? -1) + 1 }) else {
            throw PipelineError.invalid("\(directory.path): shard \(total - 1) of \(total) is missing (and no shard records the pool size)")
        }
        let present = Set(read.map(\.name.index))
        let missing = (0..<total).filter { !present.contains($0) }
        guard missing.isEmpty else {
            let list = missing.map { i -> String in
                let r = PseudoLabels.shardRange(count: pool, shard: i, shards: total)
                return "\(prefix)\(i)-of-\(total).labels (pool images \(r.lowerBound)..<\(r.upperBound))"
            }.joined(separator: ", ")
            throw PipelineError.invalid("\(directory.path): \(missing.count) of \(total) shards missing: \(list); run `predict --shard i/\(total)` for each")
        }
        for s in read {
            let expected = PseudoLabels.shardRange(count: pool, shard: s.name.index, shards: total)
            guard s.labels.indices == Array(expected) else {
                let got = s.labels.indices.isEmpty ? "nothing" : "\(s.labels.indices[0])...\(s.labels.indices[s.labels.count - 1]) (\(s.labels.count) rows)"
                throw PipelineError.corruptFile(directory.appendingPathComponent(s.file).path,
                                                "covers pool images \(got), shard \(s.name.index) of \(total) of a pool of \(pool) is \(expected.lowerBound)..<\(expected.upperBound)")
            }
        }
        return (try PseudoLabels.merge(read.map(\.labels), poolCount: pool), pool, sources.first?.source)
    }
}
