import Foundation

/// An sRGB colour with straight (non-premultiplied) alpha, components in 0...1.
public struct Color: Sendable, Equatable, Hashable {
    /// Red in 0...1 (sRGB, not linear).
    public var red: Double
    /// Green in 0...1 (sRGB).
    public var green: Double
    /// Blue in 0...1 (sRGB).
    public var blue: Double
    /// Opacity in 0...1, not premultiplied.
    public var alpha: Double

    /// A colour from sRGB components in 0...1; values outside are clamped when drawn.
    public init(red: Double, green: Double, blue: Double, alpha: Double = 1) {
        self.red = red; self.green = green; self.blue = blue; self.alpha = alpha
    }

    /// `Color(hex: 0x0072B2)`: how palettes are published, so they can be checked by eye.
    public init(hex: UInt32, alpha: Double = 1) {
        self.init(red: Double((hex >> 16) & 0xFF) / 255,
                  green: Double((hex >> 8) & 0xFF) / 255,
                  blue: Double(hex & 0xFF) / 255,
                  alpha: alpha)
    }

    /// The same colour at opacity `alpha` (0...1).
    public func withAlpha(_ alpha: Double) -> Color {
        Color(red: red, green: green, blue: blue, alpha: alpha)
    }

    /// 8-bit components as a PNG stores them (what `Raster.count(of:)` compares against).
    var rgb8: (r: UInt8, g: UInt8, b: UInt8) {
        func q(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }
        return (q(red), q(green), q(blue))
    }

    /// Relative luminance (WCAG), used to pick black or white text over a filled cell.
    var luminance: Double {
        func lin(_ c: Double) -> Double { c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4) }
        return 0.2126 * lin(red) + 0.7152 * lin(green) + 0.0722 * lin(blue)
    }

    /// Linear interpolation in sRGB; good enough between the close stops of a colour map.
    func mixed(with other: Color, _ t: Double) -> Color {
        Color(red: red + (other.red - red) * t, green: green + (other.green - green) * t,
              blue: blue + (other.blue - blue) * t, alpha: alpha + (other.alpha - alpha) * t)
    }

    /// Pure black, 0x000000.
    public static let black = Color(hex: 0x000000)
    /// Pure white, 0xFFFFFF: the figure background.
    public static let white = Color(hex: 0xFFFFFF)
}


/// The Okabe-Ito palette (Okabe & Ito 2008): eight colours distinguishable under the common
/// colour-vision deficiencies. Series additionally get distinct markers and dash patterns so a
/// grey-scale print still separates them.
public enum Palette {
    /// Okabe-Ito blue, 0x0072B2: the first series.
    public static let blue = Color(hex: 0x0072B2)
    /// Okabe-Ito vermillion, 0xD55E00: the second series.
    public static let vermillion = Color(hex: 0xD55E00)
    /// Okabe-Ito bluish green, 0x009E73.
    public static let bluishGreen = Color(hex: 0x009E73)
    /// Okabe-Ito orange, 0xE69F00.
    public static let orange = Color(hex: 0xE69F00)
    /// Okabe-Ito sky blue, 0x56B4E9.
    public static let skyBlue = Color(hex: 0x56B4E9)
    /// Okabe-Ito reddish purple, 0xCC79A7.
    public static let reddishPurple = Color(hex: 0xCC79A7)
    /// Okabe-Ito yellow, 0xF0E442: weak on white, so last in the series order.
    public static let yellow = Color(hex: 0xF0E442)
    /// Okabe-Ito black, 0x000000.
    public static let black = Color(hex: 0x000000)

    /// Series order: the darkest, most separable hues first; yellow (weak on white) last.
    public static let okabeIto: [Color] = [blue, vermillion, bluishGreen, orange, reddishPurple, skyBlue, black, yellow]

    /// Text, axes and grid: neutral greys that recede behind the data.
    static let ink = Color(hex: 0x222222)
    static let axis = Color(hex: 0x555555)
    static let grid = Color(hex: 0xE3E3E3)
    static let mutedText = Color(hex: 0x555555)
    static let background = Color.white
}

/// Marker shapes, in the order series receive them.
public enum Marker: Sendable, Equatable, Hashable, CaseIterable {
    case circle, square, triangle, diamond, invertedTriangle, cross, plus, star
    /// No marker: the line alone.
    case none
}

/// Line dash patterns, in the order series receive them.
public enum Dash: Sendable, Equatable, Hashable, CaseIterable {
    case solid, dashed, dotted, dashDot, longDash, dashDotDot

    /// On/off lengths in points; scaled by the line width so thick lines keep the same rhythm.
    func pattern(lineWidth: Double) -> [Double] {
        let w = max(lineWidth, 1)
        switch self {
        case .solid: return []
        case .dashed: return [4 * w, 2.5 * w]
        case .dotted: return [0.1, 2 * w]          // round caps turn near-zero dashes into dots
        case .dashDot: return [5 * w, 2 * w, 0.1, 2 * w]
        case .longDash: return [9 * w, 3 * w]
        case .dashDotDot: return [5 * w, 2 * w, 0.1, 2 * w, 0.1, 2 * w]
        }
    }
}

/// How one series is drawn. `SeriesStyle.automatic(index)` cycles colour, marker and dash
/// independently so that the first eight series differ in all three.
public struct SeriesStyle: Sendable, Equatable, Hashable {
    /// Line, marker and band colour (the band drawn translucent).
    public var color: Color
    /// Marker drawn at each data point, when the series shows markers.
    public var marker: Marker
    /// Line dash pattern.
    public var dash: Dash
    /// Line width in points.
    public var lineWidth: Double

    /// A style with the given colour; the rest defaults to a solid 2 pt line with circles.
    public init(color: Color, marker: Marker = .circle, dash: Dash = .solid, lineWidth: Double = 2) {
        self.color = color; self.marker = marker; self.dash = dash; self.lineWidth = lineWidth
    }

    /// The style of the series at `index` (0-based): the index-th Okabe-Ito colour, marker and dash,
    /// each cycling on its own period; a negative index counts as 0.
    public static func automatic(_ index: Int) -> SeriesStyle {
        let colors = Palette.okabeIto
        let markers: [Marker] = [.circle, .square, .triangle, .diamond, .invertedTriangle, .cross, .plus, .star]
        let dashes = Dash.allCases
        let i = max(index, 0)
        return SeriesStyle(color: colors[i % colors.count], marker: markers[i % markers.count],
                           dash: dashes[i % dashes.count])
    }
}
