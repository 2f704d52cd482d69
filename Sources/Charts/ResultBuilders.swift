/// One result builder for every list a chart is built from (series, panels, bars, curves,
/// distributions, images), so `if`, `for` and plain listing work the same everywhere:
///
///     LineChart(x: "epoch", y: "loss") {
///         for run in runs { Series(run.name, x: run.epochs, y: run.loss) }
///         if showBaseline { Series("baseline", x: epochs, y: baseline) }
///     }
@resultBuilder
public enum ListBuilder<Element> {
    public static func buildExpression(_ element: Element) -> [Element] { [element] }
    public static func buildExpression(_ elements: [Element]) -> [Element] { elements }
    public static func buildBlock(_ parts: [Element]...) -> [Element] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Element]?) -> [Element] { part ?? [] }
    public static func buildEither(first part: [Element]) -> [Element] { part }
    public static func buildEither(second part: [Element]) -> [Element] { part }
    public static func buildArray(_ parts: [[Element]]) -> [Element] { parts.flatMap { $0 } }
}

public typealias SeriesBuilder = ListBuilder<Series>
public typealias PanelBuilder = ListBuilder<Panel>
public typealias BarsBuilder = ListBuilder<Bars>
public typealias CurveBuilder = ListBuilder<Curve>
public typealias DistributionBuilder = ListBuilder<Distribution>
public typealias ImageBuilder = ListBuilder<RGBImage>
