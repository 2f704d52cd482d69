import ArgumentParser
import Foundation
import NoisyStudent

/// How a command uses its run folder, for `PipelineOptions.checkRunFolder`.
enum RunFolderUse {
    /// `run`: writes every file of a run (without `--resume`, the folder must not hold one).
    case startsRun
    /// The phase commands: read (and add to) a run whose recipe is in `recipe.json`.
    case continuesRun
}

extension PipelineOptions {
    /// Refuses, before any work, to mix two runs in one folder: a fresh `run` into a folder that
    /// already holds a run's files, or a command whose recipe (scale, seed, recipe file and
    /// overrides) differs from the one in the folder's `recipe.json` (its pseudo labels,
    /// filter records and checkpoints belong to that recipe). Throws a ValidationError that
    /// names the folder, the files or the differing recipe keys, and what to pass instead.
    func checkRunFolder(_ recipe: Recipe, use: RunFolderUse) throws {
        let dir = URL(fileURLWithPath: run)
        let recipeFile = dir.appendingPathComponent("recipe.json")
        if use == .startsRun && !resume {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
            let runFiles = names.filter { $0 == "recipe.json" || $0.hasSuffix(".ckpt") || $0.hasSuffix(".labels") || $0.hasPrefix("filter-") }.sorted()
            guard runFiles.isEmpty else {
                throw ValidationError("\(run) already holds a run (\(runFiles.prefix(4).joined(separator: ", "))\(runFiles.count > 4 ? ", ..." : "")): "
                                      + "pass --resume to continue it, or give a new or empty --run folder")
            }
            return
        }
        guard FileManager.default.fileExists(atPath: recipeFile.path) else { return }
        let saved = try Recipe.load(from: recipeFile)
        guard saved != recipe else { return }
        let keys = Self.differingKeys(saved, recipe)
        throw ValidationError("\(recipeFile.path) holds another recipe than this command's (differs in \(keys.prefix(6).joined(separator: ", ")))"
                              + ": give the run's own --scale/--seed/--recipe options (for example --recipe \(recipeFile.path)), or another --run folder")
    }

    /// Dotted paths of the JSON keys whose values differ between two recipes (sorted).
    static func differingKeys(_ a: Recipe, _ b: Recipe) -> [String] {
        func object(_ r: Recipe) -> Any? {
            guard let data = try? JSONEncoder().encode(r) else { return nil }
            return try? JSONSerialization.jsonObject(with: data)
        }
        var out: [String] = []
        func walk(_ x: Any?, _ y: Any?, _ path: String) {
            if let dx = x as? [String: Any], let dy = y as? [String: Any] {
                for k in Set(dx.keys).union(dy.keys).sorted() { walk(dx[k], dy[k], path.isEmpty ? k : "\(path).\(k)") }
            } else if let ax = x as? [Any], let ay = y as? [Any], ax.count == ay.count {
                for (i, (p, q)) in zip(ax, ay).enumerated() { walk(p, q, "\(path)[\(i)]") }
            } else if "\(x ?? "none")" != "\(y ?? "none")" {
                out.append(path)
            }
        }
        walk(object(a), object(b), "")
        return out.isEmpty ? ["its encoding"] : out
    }
}
