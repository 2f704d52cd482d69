import Foundation

/// The contract between Charts and the weaver: a figure value renders itself, deterministically,
/// to SVG (byte-identical for equal values) and to PNG at a pixel scale (2 for sharp display).
public protocol Figure: Sendable {
    /// Size in points (CSS pixels at scale 1).
    var size: FigureSize { get }
    /// SVG bytes, byte-identical for equal figures; throws `ChartError` if the figure cannot be drawn.
    func svg() throws -> Data
    /// PNG bytes at `scale` pixels per point (width x scale by height x scale pixels); throws
    /// `ChartError` for an empty or mismatched figure or a scale that is not positive.
    func png(scale: Double) throws -> Data
}

/// A figure's size in points (CSS pixels at scale 1): the size the report shows it at.
public struct FigureSize: Sendable, Equatable, Codable {
    /// Width in points.
    public var width: Double
    /// Height in points.
    public var height: Double
    /// A size of `width` by `height` points.
    public init(width: Double, height: Double) { self.width = width; self.height = height }
}
