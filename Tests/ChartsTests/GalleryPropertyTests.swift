import Foundation
import Testing
import Charts

/// Properties every figure must have, checked on every gallery figure (one of each chart kind).
@Suite struct GalleryPropertyTests {
    static let names = Gallery.entries().map(\.name)

    static func figure(_ name: String) throws -> any ChartFigure {
        try #require(Gallery.entries().first { $0.name == name }).figure
    }

    @Test(arguments: names)
    func pngHasTheFigureSizeAtTheRequestedScale(name: String) throws {
        let f = try Self.figure(name)
        for scale in [1.0, 2.0] {
            let dims = try #require(pngDimensions(try f.png(scale: scale)))
            #expect(dims.width == Int((f.size.width * scale).rounded()))
            #expect(dims.height == Int((f.size.height * scale).rounded()))
        }
    }

    @Test(arguments: names)
    func pngFileDecodesToTheRenderedPixels(name: String) throws {
        let f = try Self.figure(name)
        let decoded = try Raster(png: try f.png(scale: 1))
        #expect(decoded == (try f.raster(scale: 1)))
    }

    @Test(arguments: names)
    func nothingIsDrawnAtOrBeyondTheCanvasEdge(name: String) throws {
        let f = try Self.figure(name)
        let layout = try f.layout()
        for t in layout.texts {
            #expect(layout.canvas.contains(t.box, tolerance: 0.01), "\(t.role) \"\(t.text)\" at \(t.box) leaves the canvas")
        }
        for p in layout.panels { #expect(layout.canvas.contains(p.plot)) }
        if let legend = layout.legend { #expect(layout.canvas.contains(legend.box)) }
        // Pixels: the outer ring is untouched background, so nothing was cut off at the edge.
        #expect(borderIsBackground(try f.raster(scale: 2)))
    }

    @Test(arguments: names)
    func textsDoNotOverlapEachOther(name: String) throws {
        let layout = try Self.figure(name).layout()
        // Tick labels per axis per panel, then every text against every other.
        for (i, p) in layout.panels.enumerated() {
            #expect(overlappingPairs(p.xTickLabels).isEmpty, "x tick labels of panel \(i) overlap")
            #expect(overlappingPairs(p.yTickLabels).isEmpty, "y tick labels of panel \(i) overlap")
        }
        let clashes = overlappingPairs(layout.texts.map(\.box))
        let described = clashes.map { a, b in
            let ta = layout.texts.first { $0.box == a }, tb = layout.texts.first { $0.box == b }
            return "\"\(ta?.text ?? "?")\" / \"\(tb?.text ?? "?")\""
        }
        #expect(clashes.isEmpty, "overlapping texts: \(described)")
    }

    @Test(arguments: names)
    func textStaysReadableShown700PixelsWide(name: String) throws {
        let f = try Self.figure(name)
        // Shown at 700 px wide (or smaller figures at their own size), no text below 11 px.
        let shrink = min(1, 700 / f.size.width)
        for t in try f.layout().texts {
            #expect(t.fontSize * shrink >= 11, "\(t.role) \"\(t.text)\" would be \(t.fontSize * shrink) px")
        }
    }

    @Test(arguments: names)
    func legendNeverCoversData(name: String) throws {
        let layout = try Self.figure(name).layout()
        guard let legend = layout.legend else { return }
        for p in layout.panels {
            for d in p.points { #expect(!legend.box.contains(d.position), "legend covers a data point at \(d.position)") }
            for b in p.bars { #expect(!legend.box.intersects(b), "legend covers a bar at \(b)") }
            for a in p.annotations { #expect(!legend.box.intersects(a), "legend covers a reference label") }
            if legend.placement != .inside { #expect(!legend.box.intersects(p.plot), "outside legend overlaps a plot") }
        }
    }

    @Test(arguments: names)
    func svgIsWellFormedAndSizedInPixels(name: String) throws {
        let f = try Self.figure(name)
        let text = try #require(String(data: try f.svg(), encoding: .utf8))
        #expect(text.hasPrefix("<?xml"))
        #expect(text.contains("width=\"\(Int(f.size.width))px\""))
        #expect(text.contains("viewBox=\"0 0 \(Int(f.size.width)) \(Int(f.size.height))\""))
        #expect(text.hasSuffix("</svg>\n"))
    }
}
