import Foundation
import Testing
@testable import Datasets

/// PNG files from an independent writer (Python's zlib + struct, not libpng) in every colour
/// type, read back exactly.
@Suite struct PNGDecoderTests {
    /// Writes test PNGs: for each case, a 5x3 image whose pixel (x, y) has the RGB value
    /// ((40x + 7y) % 256, (13x + 50y) % 256, (x * y * 17) % 256) as far as the colour type can say it.
    static let writer = #"""
import struct, sys, zlib
out = sys.argv[1]
W, H = 5, 3
def rgb(x, y): return ((40*x + 7*y) % 256, (13*x + 50*y) % 256, (x*y*17) % 256)
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
def rows_bytes(rows, bpp_bits):  # rows: lists of sample values already packed as bytes
    return b"".join(b"\x00" + r for r in rows)
def pack_bits(samples, bits):
    if bits == 8: return bytes(samples)
    if bits == 16: return b"".join(struct.pack(">H", s) for s in samples)
    acc, n, out_ = 0, 0, bytearray()
    for s in samples:
        acc = (acc << bits) | s; n += bits
        if n == 8: out_.append(acc); acc, n = 0, 0
    if n: out_.append(acc << (8 - n))
    return bytes(out_)
def samples(x, y, ctype, bits):
    r, g, b = rgb(x, y)
    grey = r
    a = 255 if (x + y) % 2 == 0 else 0
    if ctype == 0:
        return [grey >> (8 - bits)] if bits < 8 else ([grey * 257] if bits == 16 else [grey])
    if ctype == 2: return [r*257, g*257, b*257] if bits == 16 else [r, g, b]
    if ctype == 3: return [(x + y * W) % (1 << bits)]
    if ctype == 4: return [grey*257, a*257] if bits == 16 else [grey, a]
    if ctype == 6: return [r*257, g*257, b*257, a*257] if bits == 16 else [r, g, b, a]
def colour_chunks(kind):
    # Colour-space chunks a viewer applies; the stored samples must still be the pixels.
    if kind == "g":
        return (chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"sRGB", b"\x00")
                + chunk(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000)))
    if kind == "G":
        return chunk(b"gAMA", struct.pack(">I", 100000)) + chunk(b"iCCP", b"profile\x00\x00" + zlib.compress(bytes(132)))
    return b""
def write(name, ctype, bits, interlace=False, colour=""):
    ihdr = struct.pack(">IIBBBBB", W, H, bits, ctype, 0, 0, 1 if interlace else 0)
    extra = b""
    if ctype == 3:
        pal = b"".join(bytes(rgb(i % W, i // W)) for i in range(1 << bits))[: 3 * 256]
        extra = chunk(b"PLTE", pal)
    def image_rows(xs, ys):
        return [pack_bits([s for x in xs for s in samples(x, y, ctype, bits)], bits) for y in ys]
    if not interlace:
        raw = rows_bytes(image_rows(range(W), range(H)), bits)
    else:
        raw = b""
        for (x0, y0, dx, dy) in [(0,0,8,8),(4,0,8,8),(0,4,4,8),(2,0,4,4),(0,2,2,4),(1,0,2,2),(0,1,1,2)]:
            xs, ys = list(range(x0, W, dx)), list(range(y0, H, dy))
            if xs and ys: raw += rows_bytes(image_rows(xs, ys), bits)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + colour_chunks(colour) + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    open(f"{out}/{name}.png", "wb").write(data)
for ctype, bits in [(0,1),(0,2),(0,4),(0,8),(0,16),(2,8),(2,16),(3,1),(3,2),(3,4),(3,8),(4,8),(4,16),(6,8),(6,16)]:
    write(f"c{ctype}b{bits}", ctype, bits)
    write(f"c{ctype}b{bits}i", ctype, bits, interlace=True)
    write(f"c{ctype}b{bits}g", ctype, bits, colour="g")
    write(f"c{ctype}b{bits}iG", ctype, bits, interlace=True, colour="G")
"""#

    static func expected(_ name: String, x: Int, y: Int) -> [UInt8] {
        let r = UInt8((40 * x + 7 * y) % 256), g = UInt8((13 * x + 50 * y) % 256), b = UInt8((x * y * 17) % 256)
        let parts = name.dropFirst().split(separator: "b")
        let ctype = Int(parts[0]) ?? -1
        let bits = Int(parts[1].prefix { $0.isNumber }) ?? 8
        let opaque = (x + y) % 2 == 0
        switch ctype {
        case 0:
            let v = bits < 8 ? UInt8((Int(r) >> (8 - bits)) * 255 / ((1 << bits) - 1)) : r
            return [v, v, v]
        case 3:
            let i = (x + y * 5) % (1 << bits)
            let px = i % 5, py = i / 5
            return [UInt8((40 * px + 7 * py) % 256), UInt8((13 * px + 50 * py) % 256), UInt8((px * py * 17) % 256)]
        case 4: return opaque ? [r, r, r] : [0, 0, 0]
        case 6: return opaque ? [r, g, b] : [0, 0, 0]
        default: return [r, g, b]
        }
    }

    static func writeFiles() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("png-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", writer, dir.path]
        try p.run(); p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return dir
    }

    @Test func everyColourTypeReadsBackExactly() throws {
        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".png") }.sorted()
        #expect(files.count == 60)
        for f in files {
            let img = try PNGDecoder.decodeRGB(path: dir.appendingPathComponent(f).path)
            #expect(img.width == 5 && img.height == 3, "\(f)")
            let name = String(f.dropLast(4))
            for y in 0..<3 { for x in 0..<5 {
                let got = Array(img.pixels[((y * 5 + x) * 3)..<((y * 5 + x) * 3 + 3)])
                #expect(got == Self.expected(name, x: x, y: y), "\(f) pixel (\(x), \(y))")
            } }
        }
    }

    /// Issue 17, item 4: gAMA, sRGB, cHRM and iCCP do not change the samples (a 16-bit grey
    /// file with gAMA 1/2.2 came out 48 levels darker). Every bit depth and colour type, with
    /// and without them, is compared with the values the independent writer stored.
    @Test func colourSpaceChunksDoNotChangeStoredSamples() throws {
        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["c0b16", "c0b8", "c2b16", "c2b8", "c3b8", "c4b16", "c6b16", "c0b1"] {
            let plain = try PNGDecoder.decodeRGB(path: dir.appendingPathComponent(name + ".png").path)
            for variant in ["g", "iG"] {
                let chunked = try PNGDecoder.decodeRGB(path: dir.appendingPathComponent(name + variant + ".png").path)
                #expect(chunked == plain, "\(name)\(variant)")
            }
        }
    }

    /// A small all-black 1-bit greyscale PNG of `width` x `height` pixels (it compresses to a
    /// few KB however large it claims to be), written by Python into a new temporary folder.
    static func blankPNG(width: Int, height: Int) throws -> (folder: URL, path: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("blank-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("blank.png").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", """
import struct, sys, zlib
W, H = int(sys.argv[2]), int(sys.argv[3])
c = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
raw = bytes((1 + W // 8) * H)
open(sys.argv[1], "wb").write(b"\\x89PNG\\r\\n\\x1a\\n" + c(b"IHDR", struct.pack(">IIBBBBB", W, H, 1, 0, 0, 0, 0)) + c(b"IDAT", zlib.compress(raw, 9)) + c(b"IEND", b""))
""", path, String(width), String(height)]
        try p.run(); p.waitUntilExit()
        return (dir, path)
    }

    /// Issue 17, item 13: a 33 KB PNG of 16384x16384 pixels is refused before decoding.
    @Test func decompressionBombIsRefusedBeforeAllocating() throws {
        let (dir, path) = try Self.blankPNG(width: 16384, height: 16384)
        defer { try? FileManager.default.removeItem(at: dir) }
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size < 100_000)
        #expect { try PNGDecoder.decodeRGB(path: path) } throws: { e in
            "\(e)".contains(path) && "\(e)".contains("16384x16384") && "\(e)".contains("--max-image-pixels")
        }
        // The limit is a parameter: a small one refuses a small image too.
        let small = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(at: small) }
        #expect(throws: DatasetError.self) { try PNGDecoder.decodeRGB(path: small.appendingPathComponent("c2b8.png").path, maxPixels: 14) }
        #expect(try PNGDecoder.decodeRGB(path: small.appendingPathComponent("c2b8.png").path, maxPixels: 15).width == 5)
    }

    /// A side beyond the decoder's bound was reported as "above the limit" of a pixel count it
    /// was below (stop 23's newcomer: 100000x100000 under --max-image-pixels 2e10).
    @Test func overlongSideIsNamedAsSuch() throws {
        let (dir, path) = try Self.blankPNG(width: 100_000, height: 2)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect { try PNGDecoder.decodeRGB(path: path, maxPixels: 20_000_000_000) } throws: { e in
            "\(e)".contains(path) && "\(e)".contains("100000x2: a side above 65536 pixels") && !"\(e)".contains("limit of")
        }
    }

    @Test func brokenFilesGiveErrorsNamingTheFile() throws {
        let dir = try Self.writeFiles()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = try Data(contentsOf: dir.appendingPathComponent("c2b8.png"))
        for cut in [8, 20, 40, good.count - 13] {
            let path = dir.appendingPathComponent("cut\(cut).png").path
            try good.prefix(cut).write(to: URL(fileURLWithPath: path))
            do { _ = try PNGDecoder.decodeRGB(path: path); Issue.record("truncated at \(cut) should fail") } catch let e as DatasetError {
                #expect(e.description.contains(path) && e.description.contains("libpng"), "\(e)")
            }
        }
        let text = dir.appendingPathComponent("notes.png").path
        try Data("this is not an image".utf8).write(to: URL(fileURLWithPath: text))
        #expect(throws: DatasetError.self) { try PNGDecoder.decodeRGB(path: text) }
        #expect(throws: DatasetError.self) { try PNGDecoder.decodeRGB(path: dir.appendingPathComponent("missing.png").path) }
    }

    @Test func fittingShrinksByAreaAndEnlargesBilinearly() {
        // 4x2 -> 2x1: each output pixel is the mean of a 2x2 block.
        let src = PNGDecoder.Image(width: 4, height: 2, pixels: [0, 0, 0, 100, 100, 100, 10, 10, 10, 30, 30, 30,
                                                                 50, 50, 50, 50, 50, 50, 70, 70, 70, 90, 90, 90])
        #expect(ImageFit.resize.apply(src, width: 2, height: 1) == [50, 50, 50, 50, 50, 50])
        // 2x1 -> 4x1 bilinear between pixel centres (edges clamp).
        let two = PNGDecoder.Image(width: 2, height: 1, pixels: [0, 0, 0, 200, 200, 200])
        #expect(ImageFit.resize.apply(two, width: 4, height: 1).map { $0 } == [0, 0, 0, 50, 50, 50, 150, 150, 150, 200, 200, 200])
        // Crop keeps the centre square.
        let wide = PNGDecoder.Image(width: 3, height: 1, pixels: [1, 1, 1, 2, 2, 2, 3, 3, 3])
        #expect(ImageFit.crop.apply(wide, width: 1, height: 1) == [2, 2, 2])
    }
}
