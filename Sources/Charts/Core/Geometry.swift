/// A point in figure coordinates: points from the top-left corner of the canvas, y down.
public struct Point: Sendable, Equatable, Hashable {
    /// Points from the left edge.
    public var x: Double
    /// Points from the top edge (y grows downwards).
    public var y: Double
    /// A point at `x`, `y` points from the top-left corner.
    public init(x: Double, y: Double) { self.x = x; self.y = y }
}

/// An axis-aligned rectangle in figure coordinates (y down).
public struct Rect: Sendable, Equatable, Hashable {
    /// Left edge, in points from the canvas's left.
    public var x: Double
    /// Top edge, in points from the canvas's top.
    public var y: Double
    /// Width in points (not negative for rectangles the library makes).
    public var width: Double
    /// Height in points.
    public var height: Double

    /// A rectangle whose top-left corner is at `x`, `y`.
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }

    /// Left edge.
    public var minX: Double { x }
    /// Top edge.
    public var minY: Double { y }
    /// Right edge.
    public var maxX: Double { x + width }
    /// Bottom edge.
    public var maxY: Double { y + height }
    /// Horizontal centre.
    public var midX: Double { x + width / 2 }
    /// Vertical centre.
    public var midY: Double { y + height / 2 }

    /// Open-interior test: rectangles that merely share an edge do not intersect, so tick labels
    /// laid out edge to edge count as "not overlapping".
    public func intersects(_ other: Rect) -> Bool {
        minX < other.maxX && other.minX < maxX && minY < other.maxY && other.minY < maxY
    }

    /// Closed test: a point on the edge is inside.
    public func contains(_ p: Point) -> Bool {
        p.x >= minX && p.x <= maxX && p.y >= minY && p.y <= maxY
    }

    /// Whether `r` lies inside, allowing it to stick out by up to `tolerance` points on each side.
    public func contains(_ r: Rect, tolerance: Double = 0) -> Bool {
        r.minX >= minX - tolerance && r.maxX <= maxX + tolerance
            && r.minY >= minY - tolerance && r.maxY <= maxY + tolerance
    }

    /// Shrunk by `dx` on the left and right and `dy` on the top and bottom; never below zero size.
    public func insetBy(dx: Double, dy: Double) -> Rect {
        Rect(x: x + dx, y: y + dy, width: max(0, width - 2 * dx), height: max(0, height - 2 * dy))
    }

    /// The smallest rectangle containing both.
    public func union(_ other: Rect) -> Rect {
        let x0 = min(minX, other.minX), y0 = min(minY, other.minY)
        return Rect(x: x0, y: y0, width: max(maxX, other.maxX) - x0, height: max(maxY, other.maxY) - y0)
    }
}
