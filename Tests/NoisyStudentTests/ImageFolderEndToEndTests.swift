import Foundation
import Testing

/// The "bring your own images" path as a user runs it: a folder of PNGs -> `noisy-student run`
/// -> `classify` -> `export-pseudo-labels`.
@Suite struct ImageFolderEndToEndTests {
    /// Three classes of 16x16 images (red, green or blue dominant, with noise), written by Python.
    static let writer = #"""
import os, random, struct, sys, zlib
root = sys.argv[1]; random.seed(4)
def png(path, w, h, px):
    raw = b"".join(b"\x00" + bytes(px[y*w*3:(y+1)*w*3]) for y in range(h))
    c = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    open(path, "wb").write(b"\x89PNG\r\n\x1a\n" + c(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + c(b"IDAT", zlib.compress(raw)) + c(b"IEND", b""))
def image(k):
    px = []
    for i in range(16 * 16):
        base = [random.randint(20, 90) for _ in range(3)]
        base[k] += 120
        px += base
    return px
for split, n in [("labeled", 20), ("test", 10)]:
    for k, name in enumerate(["blue", "green", "red"][::-1]):
        for i in range(n): png(f"{root}/{split}/{name}/{i}.png", 16, 16, image(k))
for i in range(60): png(f"{root}/unlabeled/batch{i % 3}/{i}.png", 16, 16, image(i % 3))
open(f"{root}/unlabeled/broken.png", "wb").write(b"\x89PNG\r\n\x1a\n garbage")
"""#

    /// A new temporary folder with the images under `ROOT/data`.
    static func writeImages(_ name: String) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-c", writer, root.appendingPathComponent("data").path]
        try py.run(); py.waitUntilExit()
        return root
    }

    @Test func trainClassifyExport() throws {
        let exe = try #require(CLI.binary, "noisy-student is not built next to the tests (swift build first)")
        let root = try Self.writeImages("folder")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("data").path, runDir = root.appendingPathComponent("run").path

        // An unreadable PNG stops the run with its name and libpng's reason...
        let (failed, _, failMessage) = try CLI.run(exe, ["run", "--dataset", "folder:\(data)", "--scale", "tiny", "--iterations", "1", "--run", runDir])
        #expect(failed != 0 && failMessage.contains("broken.png") && failMessage.contains("libpng"), "\(failMessage)")
        // ...unless asked to skip it, which lists it.
        let (status, out, err) = try CLI.run(exe, ["run", "--dataset", "folder:\(data)", "--scale", "tiny", "--iterations", "1",
                                               "--run", runDir, "--skip-unreadable"])
        #expect(status == 0, "\(err)")
        #expect(err.contains("skipped 1 unreadable files") && err.contains("broken.png"), "\(err)")
        #expect(out.contains("teacher") && out.contains("student1"), "\(out)")
        // The unlabeled folder has no true labels: no pseudo-label accuracy (it printed "nan%").
        #expect(out.contains("accuracy unknown (the pool has no true labels)") && !out.contains("nan"), "\(out)")

        let csv = root.appendingPathComponent("predictions.csv").path
        let (s2, _, e2) = try CLI.run(exe, ["classify", "--checkpoint", runDir + "/student1.ckpt", "--images", data + "/test",
                                        "--top", "2", "--out", csv])
        #expect(s2 == 0, "\(e2)")
        let rows = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        #expect(rows.first == ["path", "predicted", "confidence", "class_1", "probability_1", "class_2", "probability_2"])
        #expect(rows.count == 31)
        // Colour is trivial to learn: most test images get their folder's class.
        let right = rows.dropFirst().filter { r in r[0].split(separator: "/").dropLast().last.map(String.init) == String(r[1]) }.count
        #expect(right >= 24, "\(right) of 30 right")

        let export = root.appendingPathComponent("pseudo.csv").path
        let (s3, _, e3) = try CLI.run(exe, ["export-pseudo-labels", "--run", runDir, "--out", export, "--soft"])
        #expect(s3 == 0, "\(e3)")
        let lines = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "id,teacher_class,confidence,kept,copies,p_blue,p_green,p_red")
        #expect(lines.count == 61)
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix("unlabeled/batch") && $0.split(separator: ",").count == 8 })
    }

    /// `supervised --save` writes the pipeline's model card (`RunFolder.writeModel`), so
    /// `classify` can use the model on new images (it once could not: no card).
    @Test func supervisedCheckpointClassifies() throws {
        let exe = try #require(CLI.binary, "noisy-student is not built next to the tests (swift build first)")
        guard FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz") else { return }
        let root = try Self.writeImages("supervised")
        defer { try? FileManager.default.removeItem(at: root) }
        let ckpt = root.appendingPathComponent("fashion.ckpt").path
        let (s1, _, e1) = try CLI.run(exe, ["supervised", "--labels-per-class", "2", "--epochs", "1", "--width", "4",
                                        "--threads", "1", "--save", ckpt])
        #expect(s1 == 0, "\(e1)")
        let (s2, out, e2) = try CLI.run(exe, ["classify", "--checkpoint", ckpt, "--images", root.appendingPathComponent("data/test").path,
                                        "--top", "1", "--threads", "1"])
        #expect(s2 == 0, "\(e2)")
        let rows = out.split(separator: "\n")
        #expect(rows.count == 31)
        let classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
        #expect(rows.dropFirst().allSatisfy { row in classes.contains { row.contains(",\($0),") } }, "\(out.prefix(300))")
    }
}
