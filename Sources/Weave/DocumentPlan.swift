import Foundation

/// Everything about the report that is known before any stage runs: prose with its tokens,
/// figure and table numbers, and the check that every reference points at something. Built
/// first so that a typo in `@fig:` stops the build before an hour of training.
public struct DocumentPlan: Sendable {
    /// One chapter with its prose prepared for rendering.
    public struct ChapterPlan: Sendable {
        /// The parsed chapter.
        public var chapter: Chapter
        /// Per block: the prepared prose (markdown blocks) or nil.
        public var prose: [PreparedProse?]
        /// Prepared captions by stage name.
        public var captions: [String: PreparedProse]
    }

    /// Chapters in report order.
    public var chapters: [ChapterPlan]
    /// Figure stage name -> its number (1-based, in document order).
    public var figureNumbers: [String: Int]
    /// Table stage name -> its number (1-based, in document order).
    public var tableNumbers: [String: Int]
    /// Every token in the document, indexed by its placeholder number.
    public var tokens: [(token: ProseToken, location: SourceLocation)]

    /// Numbers figures and tables and scans the prose; throws `WeaveErrors` listing, with their
    /// locations, every prose error and every reference (`@fig:`, `@tbl:`, `{{ }}`) to no such
    /// figure, table or published result.
    public init(chapters: [Chapter], graph: StageGraph) throws {
        var figureNumbers: [String: Int] = [:], tableNumbers: [String: Int] = [:]
        for stage in chapters.flatMap(\.stages) {
            switch stage.kind {
            case .figure: figureNumbers[stage.name] = figureNumbers.count + 1
            case .table: tableNumbers[stage.name] = tableNumbers.count + 1
            case .compute: break
            }
        }
        let scanner = ProseScanner()
        var tokens: [(token: ProseToken, location: SourceLocation)] = []
        var errors: [WeaveError] = []
        var plans: [ChapterPlan] = []

        // Placeholders are numbered across the whole document so they can be replaced in one pass.
        func prepare(_ text: String, file: String, line: Int) -> PreparedProse? {
            do {
                let p = try scanner.scan(text, file: file, firstLine: line, firstToken: tokens.count)
                tokens += p.tokens
                return p
            } catch let e as WeaveErrors {
                errors += e.errors
            } catch {
                errors.append(WeaveError("\(error)", at: SourceLocation(file: file, line: line)))
            }
            return nil
        }

        for chapter in chapters {
            var prose: [PreparedProse?] = []
            var captions: [String: PreparedProse] = [:]
            for block in chapter.blocks {
                switch block {
                case .markdown(let text, let line):
                    prose.append(prepare(text, file: chapter.file, line: line))
                case .stage(let stage):
                    prose.append(nil)
                    if let caption = stage.caption, let p = prepare(caption, file: chapter.file, line: stage.location.line) {
                        captions[stage.name] = p
                    }
                default:
                    prose.append(nil)
                }
            }
            plans.append(ChapterPlan(chapter: chapter, prose: prose, captions: captions))
        }

        // References must name something that exists.
        let published = Self.publishedNames(graph)
        for (token, location) in tokens {
            switch token {
            case .figureRef(let name) where figureNumbers[name] == nil:
                errors.append(WeaveError(graph[name] == nil ? "unknown figure @fig:\(name)" : "@fig:\(name) is not a figure", at: location))
            case .tableRef(let name) where tableNumbers[name] == nil:
                errors.append(WeaveError(graph[name] == nil ? "unknown table @tbl:\(name)" : "@tbl:\(name) is not a table", at: location))
            case .value(let artifact, _, _, let source) where !published.contains(artifact):
                errors.append(WeaveError("unknown result '\(source)' in {{ }}: no stage publishes '\(artifact)'", at: location))
            default:
                break
            }
        }
        if !errors.isEmpty { throw WeaveErrors(errors) }
        self.chapters = plans
        self.figureNumbers = figureNumbers
        self.tableNumbers = tableNumbers
        self.tokens = tokens
    }

    /// Names a stage may publish, known statically: every stage's own name (`publish(value)`)
    /// and every string literal passed to `publish("...")` / `publishFile("...")`.
    static func publishedNames(_ graph: StageGraph) -> Set<String> { publishedNames(graph.stages) }

    static func publishedNames(_ stages: [Stage]) -> Set<String> {
        var names = Set(stages.map(\.name))
        let regex = try? NSRegularExpression(pattern: #"publish(?:File)?\(\s*"([A-Za-z0-9_-]+)""#)
        for stage in stages {
            let code = stage.code
            for m in regex?.matches(in: code, range: NSRange(code.startIndex..., in: code)) ?? [] {
                if let r = Range(m.range(at: 1), in: code) { names.insert(String(code[r])) }
            }
        }
        return names
    }
}
