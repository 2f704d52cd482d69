import Foundation

/// The layout checks of an image-folder dataset, made before any image is decoded: a class
/// folder without images would silently become a class nobody can predict, and a missing
/// unlabeled pool would only show after a teacher had trained.
extension ImageFolder {
    /// The PNG files directly inside a class folder; an error naming the folder when there are
    /// none, saying where images are instead (one level deeper, or in another format).
    static func classImages(_ dir: URL) throws -> [String] {
        let files = try pngFiles(dir, recursive: false)
        guard files.isEmpty else { return files }
        throw DatasetError.missing(file: dir.path, what: "PNG images: \(whatIsThere(dir, deeperPNGs: true)); "
                                   + "a class folder holds its .png files directly")
    }

    /// The unlabeled pool's PNG files (any depth); an error naming the folder when it is
    /// missing or holds no PNG file.
    static func poolImages(_ dir: URL) throws -> [String] {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw DatasetError.missing(file: dir.path, what: "folder: the unlabeled images (.png, any depth) the teacher labels for the students")
        }
        let files = try pngFiles(dir, recursive: true)
        guard files.isEmpty else { return files }
        throw DatasetError.missing(file: dir.path, what: "PNG images: \(whatIsThere(dir, deeperPNGs: false)); only .png files are read")
    }

    /// At least two class folders (one class "trains" to 100% and says nothing).
    static func checkClasses(_ names: [String], in dir: URL) throws {
        guard names.count >= 2 else {
            throw DatasetError.missing(file: dir.path, what: names.isEmpty
                ? "class subfolders (one per class, holding its .png files)"
                : "a second class: only '\(names[0])' is there, and a classifier needs two classes or more")
        }
    }

    /// After decoding (with `skipUnreadable`, files may drop out): every class still has images.
    static func checkDecoded(_ set: ImageSet, classNames: [String], dir: URL) throws {
        let counts = set.labelCounts(classes: classNames.count)
        if let empty = counts.firstIndex(of: 0) {
            throw DatasetError.missing(file: dir.appendingPathComponent(classNames[empty]).path,
                                       what: "readable PNG images (every file of this class was skipped as unreadable)")
        }
    }

    /// A few words on what a folder without usable PNG files holds.
    private static func whatIsThere(_ dir: URL, deeperPNGs: Bool) -> String {
        let all = (FileManager.default.enumerator(atPath: dir.path)?.allObjects as? [String]) ?? []
        let files = all.filter { rel in
            var d: ObjCBool = false
            return FileManager.default.fileExists(atPath: dir.appendingPathComponent(rel).path, isDirectory: &d) && !d.boolValue
        }
        if files.isEmpty { return "the folder is empty" }
        let deeper = files.filter { $0.lowercased().hasSuffix(".png") }
        if deeperPNGs, let first = deeper.first {
            return "\(deeper.count) sit in subfolders (e.g. \(first))"
        }
        var byExtension: [String: Int] = [:]
        for f in files { byExtension[URL(fileURLWithPath: f).pathExtension.lowercased(), default: 0] += 1 }
        let kinds = byExtension.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key.isEmpty ? "without extension" : "." + $0.key)" }
        return "it holds \(kinds.joined(separator: ", ")) file\(files.count == 1 ? "" : "s")"
    }
}
