import Foundation

/// Every chart kind drawn from made-up but plausible sample data: what `noisy-student
/// chart-gallery` writes, and what the tests check properties of. The numbers are illustrative,
/// not results.
public enum Gallery {
    /// One gallery figure and the file name stem it is written under.
    public struct Entry: Sendable {
        /// File name stem, e.g. "accuracy-by-iteration".
        public var name: String
        /// The figure, drawn from fixed sample data.
        public var figure: any ChartFigure
    }

    /// Every chart kind once, in a fixed order; the same figures on every call (seeded sample data).
    public static func entries() -> [Entry] {
        var rng = SampleRandom(seed: 2019)
        return [
            Entry(name: "accuracy-by-iteration", figure: accuracyByIteration()),
            Entry(name: "accuracy-vs-epsilon", figure: accuracyVersusEpsilon()),
            Entry(name: "ablation-bars", figure: ablationBars()),
            Entry(name: "ablation-bars-horizontal", figure: ablationBarsHorizontal()),
            Entry(name: "corruption-small-multiples", figure: corruptionSmallMultiples()),
            Entry(name: "confidence-histogram", figure: confidenceHistogram(&rng)),
            Entry(name: "confusion-matrix", figure: confusionMatrix(&rng)),
            Entry(name: "mce-table", figure: mceTable()),
            Entry(name: "training-curves", figure: trainingCurves(&rng)),
            Entry(name: "pseudo-labelled-samples", figure: sampleGrid(&rng)),
            Entry(name: "corruption-grid", figure: corruptionGrid(&rng)),
        ]
    }

    static let iterations = ["teacher", "iter 1", "iter 2", "iter 3"]

    static func accuracyByIteration() -> LineChart {
        LineChart(title: "Top-1 accuracy by iteration (mean ± std over 3 seeds)", x: "iteration", y: "top-1 accuracy (%)",
                  references: [ReferenceLine(y: 95.1, label: "supervised on all labels")]) {
            Series("noisy student", x: iterations, y: [91.2, 93.4, 94.3, 94.6], error: [0.35, 0.25, 0.2, 0.2])
            Series("student without noise", x: iterations, y: [91.2, 91.9, 92.1, 92.0], error: [0.35, 0.3, 0.3, 0.35])
            Series("supervised (same size)", x: iterations, y: [91.2, 91.6, 91.8, 91.9], error: [0.35, 0.3, 0.25, 0.3])
        }
    }

    static func accuracyVersusEpsilon() -> LineChart {
        let eps = [0, 1, 2, 4, 8, 16].map { Double($0) / 255 }
        func curve(_ base: Double, _ decay: Double) -> [Double] { eps.map { base * exp(-decay * $0 * 255 / 8) } }
        return LineChart(title: "FGSM robustness", x: "ε (L∞, pixel scale 0–1)", y: "accuracy (%)", yRange: 0...100) {
            Series("teacher", x: eps, y: curve(91.2, 0.9), band: [0, 1.1, 1.4, 1.6, 1.5, 1.0])
            Series("noisy student", x: eps, y: curve(94.6, 0.6), band: [0, 0.9, 1.2, 1.4, 1.5, 1.2])
            Series("student without noise", x: eps, y: curve(92.0, 0.8), band: [0, 1.0, 1.2, 1.5, 1.3, 1.1])
        }
    }

    static let ablations = ["full recipe", "no input noise (RandAugment)", "no model noise (dropout, depth)", "hard pseudo labels",
                            "no filtering or balancing", "batch ratio 1:1 instead of 1:5"]

    static func ablationBars() -> BarChart {
        BarChart(title: "Ablations: accuracy on clean and corrupted test sets", categories: "ablation",
                 values: "accuracy (%)", valueRange: 0...100) {
            Bars("clean", categories: ["full", "no noise", "hard labels", "no balance"], values: [94.6, 92.0, 94.1, 93.9], errors: [0.2, 0.3, 0.25, 0.3])
            Bars("corrupted (mean)", categories: ["full", "no noise", "hard labels", "no balance"], values: [81.3, 74.2, 78.9, 80.2], errors: [0.5, 0.7, 0.6, 0.6])
        }
    }

    static func ablationBarsHorizontal() -> BarChart {
        BarChart(title: "What each part of the recipe is worth", categories: nil, values: "top-1 accuracy (%)",
                 orientation: .horizontal, baseline: .fitted, references: [ReferenceLine(x: 91.2, label: "teacher")]) {
            Bars("student", categories: ablations, values: [94.6, 92.4, 93.1, 94.1, 93.9, 93.6], errors: [0.2, 0.3, 0.3, 0.25, 0.3, 0.2])
            Bars("student, 2 × wider", categories: ablations, values: [95.2, 92.6, 93.5, 94.8, 94.9, 94.0], errors: [0.2, 0.3, 0.25, 0.2, 0.3, 0.25])
        }
    }

    static let corruptions = ["gaussian noise", "shot noise", "impulse noise", "defocus blur", "motion blur", "zoom blur",
                              "glass blur", "snow", "fog", "brightness", "contrast", "elastic", "pixelate", "jpeg"]

    static func corruptionSmallMultiples() -> SmallMultiples {
        let severities = [1, 2, 3, 4, 5]
        return SmallMultiples(title: "Accuracy under corruption, by severity", columns: 4, x: "severity", y: "accuracy (%)") {
            for (k, name) in corruptions.prefix(8).enumerated() {
                let hardness = 2.0 + Double(k % 4) * 2.2
                Panel(name) {
                    Series("teacher", x: severities, y: severities.map { 91 - hardness * Double($0) * 1.3 })
                    Series("noisy student", x: severities, y: severities.map { 94.5 - hardness * Double($0) * 0.8 })
                }
            }
        }
    }

    static func confidenceHistogram(_ rng: inout SampleRandom) -> Histogram {
        // Right pseudo labels pile up near 1; wrong ones spread lower.
        let correct = (0..<4000).map { _ in min(1, 1 - abs(rng.normal() * 0.08)) }
        let wrong = (0..<600).map { _ in min(1, max(0.1, 0.55 + rng.normal() * 0.18)) }
        return Histogram(title: "Teacher confidence on the unlabeled pool", x: "confidence of the predicted class", y: "images",
                         bins: 30, range: 0...1, references: [ReferenceLine(x: 0.3, label: "filter threshold")], layout: .panels) {
            Distribution("pseudo label right", values: correct)
            Distribution("pseudo label wrong", values: wrong)
        }
    }

    static func confusionMatrix(_ rng: inout SampleRandom) -> Heatmap {
        let digits = (0..<10).map(String.init)
        var counts = [[Int]](repeating: [Int](repeating: 0, count: 10), count: 10)
        let support = [1744, 5099, 4149, 2882, 2523, 2384, 1977, 2019, 1660, 1595]  // SVHN test class counts
        for t in 0..<10 {
            var left = support[t]
            for p in 0..<10 where p != t {
                let confusable = (t == 1 && p == 7) || (t == 3 && p == 5) || (t == 6 && p == 8) || (t == 0 && p == 8)
                let n = Int(Double(support[t]) * (confusable ? 0.02 : 0.003) * (0.5 + rng.uniform()))
                counts[t][p] = n; left -= n
            }
            counts[t][t] = left
        }
        return .confusionMatrix(title: "Confusion matrix of the noisy student (% of each true digit)", classes: digits,
                                counts: counts, normalized: true)
    }

    static func mceTable() -> Heatmap {
        let models = ["teacher (baseline)", "student, no noise", "noisy student", "noisy student, iter 2"]
        let cols = Array(corruptions)
        let values: [[Double]] = models.enumerated().map { m, _ in
            cols.indices.map { c in m == 0 ? 100 : 100 - Double(m) * (6 + Double(c % 5) * 2.5) + Double((c * 7) % 3) }
        }
        return Heatmap(title: "Corruption error relative to the teacher (CE, %; lower is better)", rows: models, columns: cols,
                       values: values, colorMap: .purpleOrange(center: 100), format: .fixed(0), colorBarLabel: "CE (%)")
    }

    static func trainingCurves(_ rng: inout SampleRandom) -> TrainingCurves {
        let epochs = Array(0...60)
        func decay(_ e: Int, _ start: Double, _ end: Double, _ rate: Double) -> Double { end + (start - end) * exp(-Double(e) / rate) }
        let trainLoss = epochs.map { decay($0, 2.3, 0.25, 9) + rng.normal() * 0.02 }
        let valLoss = epochs.map { decay($0, 2.3, 0.38, 10) + rng.normal() * 0.03 + (Double($0) > 40 ? (Double($0) - 40) * 0.002 : 0) }
        let trainAcc = epochs.map { min(100, decay($0, 10, 97.5, 8) + rng.normal() * 0.3) }
        let valAcc = epochs.map { min(100, decay($0, 10, 93.8, 9) + rng.normal() * 0.4) }
        return TrainingCurves(title: "Teacher training on the labeled set") {
            Curve("train", epochs: epochs, loss: trainLoss, accuracy: trainAcc)
            Curve("validation", epochs: epochs, loss: valLoss, accuracy: valAcc)
        }
    }

    static func sampleGrid(_ rng: inout SampleRandom) -> ImageGrid {
        let images = (0..<16).map { i -> RGBImage in
            let digit = (i * 7 + 3) % 10
            let confidence = 0.55 + 0.44 * rng.uniform()
            return SampleImages.digit(digit, rng: &rng, label: "\(digit) · \(NumberFormat.fixedString(confidence, 2))")
        }
        return ImageGrid(title: "Pseudo-labelled examples (label · teacher confidence)", columns: 8, images: images)
    }

    static func corruptionGrid(_ rng: inout SampleRandom) -> ImageGrid {
        let base = SampleImages.digit(4, rng: &rng, label: "")
        let kinds = ["gaussian noise", "contrast", "pixelate"]
        // What the student predicts on each corrupted image, with its confidence.
        let predictions = [["4 · 0.99", "4 · 0.98", "4 · 0.91", "4 · 0.72", "1 · 0.41"],
                           ["4 · 0.99", "4 · 0.97", "4 · 0.93", "4 · 0.80", "4 · 0.55"],
                           ["4 · 0.99", "4 · 0.96", "4 · 0.62", "7 · 0.38", "0 · 0.22"]]
        var images: [RGBImage] = []
        for (k, kind) in kinds.enumerated() {
            for s in 1...5 { images.append(SampleImages.corrupt(base, kind: kind, severity: s, rng: &rng, label: predictions[k][s - 1])) }
        }
        return ImageGrid(title: "Corruptions at severities 1–5 (student prediction · confidence)", columns: 5, cellSize: 72,
                         rowLabels: kinds, columnLabels: (1...5).map { "severity \($0)" }, images: images)
    }
}

/// A tiny deterministic generator for sample data (SplitMix64), passed explicitly: the gallery
/// draws the same figures on every run and machine.
struct SampleRandom: Sendable {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    mutating func uniform() -> Double { Double(next() >> 11) / Double(1 << 53) }

    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u = max(uniform(), 1e-12), v = uniform()
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

/// House-number-like 32x32 samples for the gallery: a seven-segment digit on a coloured background.
enum SampleImages {
    static let segments: [[Int]] = [ // a b c d e f g
        [1, 1, 1, 1, 1, 1, 0], [0, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 0, 0, 1], [0, 1, 1, 0, 0, 1, 1],
        [1, 0, 1, 1, 0, 1, 1], [1, 0, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 1, 1],
    ]

    static func digit(_ d: Int, rng: inout SampleRandom, label: String) -> RGBImage {
        let n = 32
        let bg = (rng.uniform() * 200, rng.uniform() * 200, rng.uniform() * 200)
        let light = (bg.0 + bg.1 + bg.2) / 3 < 110
        let fg: (Double, Double, Double) = light ? (235, 230, 215) : (25, 25, 35)
        let on = segments[((d % 10) + 10) % 10]
        // Segment rectangles in a 32x32 frame: x0, y0, x1, y1.
        let rects = [(10, 5, 22, 8), (20, 6, 23, 16), (20, 16, 23, 26), (10, 24, 22, 27), (9, 16, 12, 26), (9, 6, 12, 16), (10, 14, 22, 17)]
        var px = [UInt8](repeating: 0, count: n * n * 3)
        for y in 0..<n {
            for x in 0..<n {
                let shade = 1 + 0.15 * (Double(x + y) / Double(2 * n) - 0.5)
                var c = (bg.0 * shade, bg.1 * shade, bg.2 * shade)
                for (k, r) in rects.enumerated() where on[k] == 1 && x >= r.0 && x < r.2 && y >= r.1 && y < r.3 { c = fg }
                let noise = rng.normal() * 6
                let i = (y * n + x) * 3
                px[i] = UInt8(clamping: Int(c.0 + noise)); px[i + 1] = UInt8(clamping: Int(c.1 + noise)); px[i + 2] = UInt8(clamping: Int(c.2 + noise))
            }
        }
        return RGBImage(width: n, height: n, pixels: px, label: label)
    }

    static func corrupt(_ img: RGBImage, kind: String, severity s: Int, rng: inout SampleRandom, label: String) -> RGBImage {
        var px = img.pixels
        switch kind {
        case "gaussian noise":
            let sigma = [8.0, 16, 28, 42, 60][max(0, min(4, s - 1))]
            for i in px.indices { px[i] = UInt8(clamping: Int(Double(px[i]) + rng.normal() * sigma)) }
        case "contrast":
            let c = [0.75, 0.55, 0.4, 0.25, 0.15][max(0, min(4, s - 1))]
            let mean = Double(px.reduce(0) { $0 + Int($1) }) / Double(max(1, px.count))
            for i in px.indices { px[i] = UInt8(clamping: Int((Double(px[i]) - mean) * c + mean)) }
        default: // pixelate: each block takes its mean colour
            let block = [2, 3, 4, 6, 8][max(0, min(4, s - 1))]
            for by in stride(from: 0, to: img.height, by: block) {
                for bx in stride(from: 0, to: img.width, by: block) {
                    let ys = by..<min(by + block, img.height), xs = bx..<min(bx + block, img.width)
                    for ch in 0..<3 {
                        var sum = 0
                        for y in ys { for x in xs { sum += Int(img.pixels[(y * img.width + x) * 3 + ch]) } }
                        let mean = UInt8(clamping: sum / (ys.count * xs.count))
                        for y in ys { for x in xs { px[(y * img.width + x) * 3 + ch] = mean } }
                    }
                }
            }
        }
        return RGBImage(width: img.width, height: img.height, pixels: px, label: label)
    }
}
