/// One result builder for every list a chart is built from (series, panels, bars, curves,
/// distributions, images), so `if`, `for` and plain listing work the same everywhere:
///
///     LineChart(x: "epoch", y: "loss") {
///         for run in runs { Series(run.name, x: run.epochs, y: run.loss) }
///         if showBaseline { Series("baseline", x: epochs, y: baseline) }
///     }
@resultBuilder
public enum ListBuilder<Element> {
    /// One listed element.
    public static func buildExpression(_ element: Element) -> [Element] { [element] }
    /// An array listed inline is spliced in, not nested.
    public static func buildExpression(_ elements: [Element]) -> [Element] { elements }
    /// Concatenates the block's parts in order.
    public static func buildBlock(_ parts: [Element]...) -> [Element] { parts.flatMap { $0 } }
    /// An `if` without `else` that is false contributes nothing.
    public static func buildOptional(_ part: [Element]?) -> [Element] { part ?? [] }
    /// The taken branch of an `if`/`else` or `switch`.
    public static func buildEither(first part: [Element]) -> [Element] { part }
    /// The taken branch of an `if`/`else` or `switch`.
    public static func buildEither(second part: [Element]) -> [Element] { part }
    /// A `for` loop's elements, in iteration order.
    public static func buildArray(_ parts: [[Element]]) -> [Element] { parts.flatMap { $0 } }
}

/// Lists the series of a `LineChart` or `Panel`.
public typealias SeriesBuilder = ListBuilder<Series>
/// Lists the panels of `SmallMultiples`.
public typealias PanelBuilder = ListBuilder<Panel>
/// Lists the bar series of a `BarChart`.
public typealias BarsBuilder = ListBuilder<Bars>
/// Lists the runs of `TrainingCurves`.
public typealias CurveBuilder = ListBuilder<Curve>
/// Lists the distributions of a `Histogram`.
public typealias DistributionBuilder = ListBuilder<Distribution>
/// Lists the cells of an `ImageGrid`.
public typealias ImageBuilder = ListBuilder<RGBImage>
