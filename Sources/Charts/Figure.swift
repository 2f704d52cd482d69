import Foundation

/// The contract between Charts and the weaver: a figure value renders itself, deterministically,
/// to SVG (byte-identical for equal values) and to PNG at a pixel scale (2 for sharp display).
public protocol Figure: Sendable {
    /// Size in points (CSS pixels at scale 1).
    var size: FigureSize { get }
    func svg() throws -> Data
    func png(scale: Double) throws -> Data
}

public struct FigureSize: Sendable, Equatable, Codable {
    public var width: Double
    public var height: Double
    public init(width: Double, height: Double) { self.width = width; self.height = height }
}
