import Foundation

/// A continuous colour scale for heatmaps: colour stops evenly spaced over 0...1.
public struct ColorMap: Sendable, Equatable, Hashable {
    /// Colours from low to high values; at least two give a gradient, one gives a flat map.
    public var stops: [Color]
    /// For diverging maps, the data value that maps to the middle stop (e.g. 100 for CE in %).
    public var center: Double?

    /// A map through `stops`; `center` makes it diverging (see `center`).
    public init(stops: [Color], center: Double? = nil) { self.stops = stops; self.center = center }

    /// Perceptually uniform and colour-blind safe (matplotlib's viridis, sampled at tenths).
    public static let viridis = ColorMap(stops: [0x440154, 0x482475, 0x414487, 0x355F8D, 0x2A788E, 0x21918C,
                                                  0x22A884, 0x44BF70, 0x7AD151, 0xBDDF26, 0xFDE725].map { Color(hex: $0) })
    /// Sequential single hue (ColorBrewer Blues): counts such as a confusion matrix.
    public static let blues = ColorMap(stops: [0xF7FBFF, 0xDEEBF7, 0xC6DBEF, 0x9ECAE1, 0x6BAED6, 0x4292C6,
                                                0x2171B5, 0x08519C, 0x08306B].map { Color(hex: $0) })
    /// Diverging orange-white-purple (ColorBrewer PuOr, colour-blind safe) around `center`:
    /// better or worse than a baseline.
    public static func purpleOrange(center: Double) -> ColorMap {
        ColorMap(stops: [0xB35806, 0xE08214, 0xFDB863, 0xFEE0B6, 0xF7F7F7, 0xD8DAEB, 0xB2ABD2, 0x8073AC,
                         0x542788].map { Color(hex: $0) }, center: center)
    }

    /// The colour at `t` in 0...1 (clamped).
    func color(at t: Double) -> Color {
        guard stops.count > 1 else { return stops.first ?? .black }
        let u = min(max(t.isFinite ? t : 0, 0), 1) * Double(stops.count - 1)
        let i = min(Int(u), stops.count - 2)
        return stops[i].mixed(with: stops[i + 1], u - Double(i))
    }

    /// Where a value falls in 0...1 on `range`; a diverging map puts `center` at 0.5 and scales
    /// both sides alike so equal distances from the baseline look equally strong.
    func position(_ v: Double, in range: ClosedRange<Double>) -> Double {
        if let c = center {
            let span = max(c - range.lowerBound, range.upperBound - c, 1e-12)
            return 0.5 + (v - c) / (2 * span)
        }
        let span = range.upperBound - range.lowerBound
        return span > 0 ? (v - range.lowerBound) / span : 0.5
    }
}
