import Foundation
import Testing

/// `noisy-student data-preview` draws its grids with Charts' `ImageGrid` (issue 20, item 4):
/// colour and grey datasets, augmentations and corruptions each give a PNG of the expected size.
@Suite struct DataPreviewTests {
    /// Width and height from a PNG's IHDR chunk, or nil when the bytes are not a PNG.
    func pngSize(_ url: URL) throws -> (width: Int, height: Int)? {
        let d = [UInt8](try Data(contentsOf: url))
        guard d.count > 24, d[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { return nil }
        func be32(_ o: Int) -> Int { d[o..<(o + 4)].reduce(0) { $0 << 8 | Int($1) } }
        return (be32(16), be32(20))
    }

    @Test(arguments: [
        (["--dataset", "synthetic", "--count", "20"], 10),
        (["--dataset", "fashion-mnist", "--count", "20"], 10),
        (["--dataset", "fashion-mnist", "--augment", "randaugment"], 6),
        (["--dataset", "synthetic", "--augment", "pipeline"], 8),
        (["--dataset", "synthetic", "--corruptions"], 6),
    ])
    func gridsAreWritten(args: [String], columns: Int) throws {
        guard let exe = CLI.binary else { Issue.record("noisy-student binary not found"); return }
        if args.contains("fashion-mnist") && !FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist") { return }
        let dir = CLI.tempDir("preview")
        defer { try? FileManager.default.removeItem(at: dir) }
        let out = dir.appendingPathComponent("grid.png")
        let (status, _, err) = try CLI.run(exe, ["data-preview"] + args + ["--out", out.path])
        #expect(status == 0, "\(err)")
        let size = try pngSize(out)
        // 48-point cells at 2 pixels per point, plus gaps and labels.
        #expect((size?.width ?? 0) >= columns * 96, "\(String(describing: size))")
        #expect((size?.height ?? 0) >= 96, "\(String(describing: size))")
    }

    /// A count far past any grid is refused before anything is allocated (it used to trap
    /// asking for 300 GB), and so is 0.
    @Test(arguments: ["100000000", "0"]) func absurdCountsAreRefused(count: String) throws {
        guard let exe = CLI.binary else { Issue.record("noisy-student binary not found"); return }
        let dir = CLI.tempDir("preview")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (status, _, err) = try CLI.run(exe, ["data-preview", "--count", count, "--out", dir.appendingPathComponent("g.png").path])
        #expect(status != 0 && status < 128, "\(status)")
        #expect(err.contains("--count must be from 1 to 10,000"), "\(err)")
    }
}
