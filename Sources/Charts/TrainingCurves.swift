import Foundation

/// One run's curves: loss and/or accuracy against epoch (either may be absent, e.g. a
/// validation run that records accuracy only).
public struct Curve: Sendable, Equatable {
    /// Legend name; a run keeps one style in both panels.
    public var name: String
    /// x values, one per recorded point.
    public var epochs: [Double]
    /// Loss per epoch (same count as `epochs`); nil leaves the run out of the loss panel.
    public var loss: [Double]?
    /// Accuracy per epoch, in the unit of the accuracy label (percent by default); nil leaves the run
    /// out of the accuracy panel.
    public var accuracy: [Double]?

    /// A run's curves at fractional epochs (evaluations within an epoch).
    public init(_ name: String, epochs: [Double], loss: [Double]? = nil, accuracy: [Double]? = nil) {
        self.name = name; self.epochs = epochs; self.loss = loss; self.accuracy = accuracy
    }

    /// A run's curves at whole epochs.
    public init(_ name: String, epochs: [Int], loss: [Double]? = nil, accuracy: [Double]? = nil) {
        self.init(name, epochs: epochs.map(Double.init), loss: loss, accuracy: accuracy)
    }
}

/// Training curves as two stacked panels sharing the epoch axis: loss above, accuracy below.
/// Never two y scales on one panel: a reader cannot tell which line belongs to which axis.
///
///     TrainingCurves(title: "Teacher") {
///         Curve("train", epochs: e, loss: trainLoss, accuracy: trainAcc)
///         Curve("validation", epochs: e, loss: valLoss, accuracy: valAcc)
///     }
public struct TrainingCurves: ChartFigure, Drawable, Equatable {
    /// Title above both panels; nil draws none.
    public var title: String?
    /// Label of the shared x axis.
    public var xLabel: String
    /// y label of the loss panel.
    public var lossLabel: String
    /// y label of the accuracy panel.
    public var accuracyLabel: String
    /// The runs, one style each.
    public var curves: [Curve]
    /// Size in points (both panels together).
    public var size: FigureSize

    /// Curves of the listed runs; a panel is drawn only if some run has its quantity. Drawing throws
    /// `ChartError.emptyData` for no runs or no loss and no accuracy, `.mismatchedLengths` when a
    /// run's values and epochs differ in count.
    public init(title: String? = nil, x: String = "epoch", loss: String = "loss", accuracy: String = "accuracy (%)",
                size: FigureSize = FigureSize(width: 640, height: 480), @CurveBuilder _ content: () -> [Curve]) {
        self.init(title: title, x: x, loss: loss, accuracy: accuracy, size: size, curves: content())
    }

    /// The same figure from an array of runs.
    public init(title: String? = nil, x: String = "epoch", loss: String = "loss", accuracy: String = "accuracy (%)",
                size: FigureSize = FigureSize(width: 640, height: 480), curves: [Curve]) {
        self.title = title; self.xLabel = x; self.lossLabel = loss; self.accuracyLabel = accuracy
        self.curves = curves; self.size = size
    }

    func draw(on canvas: Canvas) throws -> FigureLayout {
        guard !curves.isEmpty else { throw ChartError.emptyData("training curves \"\(title ?? "")\" have no curves") }
        let styleIndex = Dictionary(curves.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { a, _ in a })
        // Markers on all curves or on none, decided by the longest run.
        let markers = (curves.map(\.epochs.count).max() ?? 0) <= 30
        let lossSeries = curves.compactMap { c in c.loss.map { Series(c.name, x: c.epochs, y: $0, markers: markers) } }
        let accSeries = curves.compactMap { c in c.accuracy.map { Series(c.name, x: c.epochs, y: $0, markers: markers) } }
        let allEpochs = curves.flatMap(\.epochs)
        let (xLo, xHi) = allEpochs.finiteExtent ?? (0, 1)

        var panels: [CartesianPanel] = []
        var entries: [LegendEntry] = []
        for (series, label) in [(lossSeries, lossLabel), (accSeries, accuracyLabel)] where !series.isEmpty {
            let m = try LineMarks(series, xLabel: nil, styleIndex: styleIndex)
            var x = AxisModel.numeric(nil, low: xLo, high: xHi, niceBounds: false)
            x.integerValues = allEpochs.allSatisfy { $0 == $0.rounded() }
            panels.append(CartesianPanel(title: nil, x: x,
                                         y: .numeric(label, low: m.yLow, high: m.yHigh), marks: m.marks))
            for e in m.entries where !entries.contains(where: { $0.name == e.name }) { entries.append(e) }
        }
        guard !panels.isEmpty else { throw ChartError.emptyData("training curves have neither loss nor accuracy") }
        return PanelFigure(size: size, title: title, panels: panels, columns: 1, sharedXLabel: xLabel,
                           legend: entries.count > 1 ? entries : [], legendMode: .top, sharedX: true).draw(on: canvas)
    }
}
