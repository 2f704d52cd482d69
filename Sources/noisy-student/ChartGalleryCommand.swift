import ArgumentParser
import Charts
import Foundation

/// Renders every chart kind from sample data, as SVG and 2x PNG: a visual check of the Charts
/// library and the source of the README's example figure.
struct ChartGallery: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chart-gallery",
        abstract: "Render every chart kind from sample data into a folder (NAME.svg and NAME.png)."
    )

    @Option(name: .long, help: "Output folder (created if missing).")
    var out: String = "figures/gallery"

    @Option(name: .long, help: "PNG pixels per point.")
    var scale: Double = 2

    func run() throws {
        let dir = URL(fileURLWithPath: out, isDirectory: true)
        for entry in Gallery.entries() {
            try entry.figure.write(svgTo: dir.appendingPathComponent(entry.name + ".svg"),
                                   pngTo: dir.appendingPathComponent(entry.name + ".png"), pngScale: scale)
            print(dir.appendingPathComponent(entry.name + ".png").path)
        }
    }
}
