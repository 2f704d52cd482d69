import ArgumentParser
import Engine
import Foundation
import Randomness
#if canImport(Glibc)
import Glibc
#endif

/// Throughput benchmark of the engine, side by side with ../shared/bench/torch_anchor.py:
/// the same models, batch, thread count and line format, plus achieved GFLOP/s against the
/// sgemm peak measured in the same process, the OpenBLAS kernel and the peak RSS.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine-bench",
        abstract: "Training and inference throughput (images/s, GFLOP/s) of the engine's models.")

    enum Model: String, ExpressibleByArgument, CaseIterable { case resnet, wrn, efficientnet }

    @Option(help: "resnet (torch_anchor's post-activation CIFAR ResNet), wrn or efficientnet.")
    var model: Model = .resnet
    @Option(parsing: .unconditional, help: "ResNet depth (6n+2) or WRN depth (6n+4; give it: the default is a ResNet's).") var depth: Int = 8
    @Option(parsing: .unconditional, help: "ResNet base width / WRN widening factor.") var width: Int = 16
    @Option(parsing: .unconditional, help: "EfficientNet width multiplier.") var widthMultiplier: Double = 1
    @Option(parsing: .unconditional, help: "EfficientNet depth multiplier.") var depthMultiplier: Double = 1
    @Option(parsing: .unconditional, help: "Images per step.") var batch: Int = 128
    @Option(parsing: .unconditional, help: "Height and width of the square input images, pixels (28 for Fashion-MNIST).") var imageSize: Int = 32
    @Option(parsing: .unconditional, help: "Channels of the input images (1 for Fashion-MNIST).") var channels: Int = 3
    @Option(parsing: .unconditional, help: "Seconds of training to time, above 0 and at most a day (inference gets half, as in torch_anchor.py).") var seconds: Double = 20
    @Option(parsing: .unconditional, help: "Threads (OpenBLAS and the engine's own parallel loops).") var threads: Int = 2
    @Option(help: "Which passes to time: train, infer or both.") var mode: String = "both"
    @Option(parsing: .unconditional, help: "Size of the square sgemm timed as the peak reference, 0 to \(EngineBench.maxPeakSize) (0: skip).") var peakSize: Int = 2048
    @Option(parsing: .unconditional, help: "Dense convs with cin*cout >= this use im2col+sgemm (default: the engine's choice, none; with it, outputs depend on the batch in the last bits).") var gemmChannelProduct: Int?
    @Option(parsing: .unconditional, help: "3x3 stride-1 convs with cin*cout >= this (and 16, 32, 64 or 128 input channels; never on the portable path) run Winograd F(4x4,3x3) forward and for input gradients in training (default: the engine's, \(KernelConfiguration.winogradChannelProduct); a huge value turns it off).") var winogradChannelProduct: Int?
    @Option(parsing: .unconditional, help: "The same for the weight gradients of those convs (default: the engine's, \(KernelConfiguration.winogradWeightChannelProduct)).") var winogradWeightChannelProduct: Int?
    @Option(parsing: .unconditional, help: "The same in inference, a forward pass no gradient flows back through (default: the engine's, \(KernelConfiguration.winogradInferenceChannelProduct)).") var winogradInferenceChannelProduct: Int?
    @Option(parsing: .unconditional, help: "Images each worker runs through the whole network at a time in inference (Layer.predict; default: the engine's choice; the batch size: one pass over the batch).") var inferenceChunk: Int?
    @Flag(help: "Also print the mean forward/backward/optimizer split of a training step.") var breakdown = false

    /// The largest --peak-size: its three matrices take 3 n² floats (3.2 GB at 16,384).
    static let maxPeakSize = 16_384
    /// The largest --batch and --image-size (a 4,096-image batch of 32 x 32 x 3 is 50 MB).
    static let maxBatch = 4_096, maxImageSize = 512

    func validate() throws {
        if let c = inferenceChunk, c < 1 { throw ValidationError("--inference-chunk must be at least 1, got \(c)") }
        // A NaN, zero or negative time would time nothing (and print inf CPU-ms); inf never ends.
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw ValidationError("--seconds must be above 0 and at most 86400, got \(seconds)")
        }
        guard (0...EngineBench.maxPeakSize).contains(peakSize) else {
            throw ValidationError("--peak-size must be 0 (skip) to \(EngineBench.maxPeakSize), got \(peakSize)")
        }
        for (name, value) in [("--gemm-channel-product", gemmChannelProduct), ("--winograd-channel-product", winogradChannelProduct),
                              ("--winograd-weight-channel-product", winogradWeightChannelProduct),
                              ("--winograd-inference-channel-product", winogradInferenceChannelProduct)] {
            if let v = value, v < 0 { throw ValidationError("\(name) must be 0 or more (a channel product), got \(v)") }
        }
        // Upper bounds keep the input tensor's size from overflowing or exhausting memory.
        guard (1...EngineBench.maxBatch).contains(batch), (8...EngineBench.maxImageSize).contains(imageSize), channels > 0 else {
            throw ValidationError("--batch must be 1 to \(EngineBench.maxBatch), --channels positive and --image-size 8 to \(EngineBench.maxImageSize)")
        }
        if let problem = BLASRuntime.threadCountProblem(threads) { throw ValidationError("--threads \(problem)") }
        guard ["train", "infer", "both"].contains(mode) else { throw ValidationError("--mode must be train, infer or both, got \(mode)") }
        // The constructors' own checks are preconditions, gone in this unchecked build.
        if let p = network.spec.problem {
            let option = ["depth": "--depth", "width": "--width", "widthMultiplier": "--width-multiplier",
                          "depthMultiplier": "--depth-multiplier", "inputChannels": "--channels"][p.field] ?? p.field
            throw ValidationError("\(option): \(p.problem)")
        }
    }

    /// The model the options describe, and its name in the printed lines.
    var network: (spec: ModelSpec, name: String) {
        switch model {
        case .resnet: return (.resnet(depth: depth, width: width, inputChannels: channels), "resnet-\(depth) w\(width)")
        case .wrn: return (.wideResNet(depth: depth, width: width, inputChannels: channels), "wrn-\(depth)-\(width)")
        case .efficientnet:
            return (.efficientNet(width: widthMultiplier, depth: depthMultiplier, inputChannels: channels),
                    "efficientnet w\(widthMultiplier) d\(depthMultiplier)")
        }
    }

    func run() throws {
        BLASRuntime.setThreads(threads)
        Parallelism.threads = threads
        if let g = gemmChannelProduct { KernelConfiguration.gemmChannelProduct = g }
        if let g = winogradChannelProduct { KernelConfiguration.winogradChannelProduct = g }
        if let g = winogradWeightChannelProduct { KernelConfiguration.winogradWeightChannelProduct = g }
        if let g = winogradInferenceChannelProduct { KernelConfiguration.winogradInferenceChannelProduct = g }
        var rng = SeededGenerator(seed: 0)
        let (spec, name) = network
        let net = spec.build(rng: &rng)
        // Deterministic synthetic batch (seeded), like torch_anchor's randn / randint.
        var x = Tensor(zeros: [batch, imageSize, imageSize, channels])
        for i in 0..<x.count { x.scalars[i] = rng.normal() }
        let labels = (0..<batch).map { _ in rng.int(below: 10) }

        // Multiply-adds of one forward pass, counted by the kernels themselves.
        WorkCounter.reset(); WorkCounter.isEnabled = true
        _ = net(Variable(x), ForwardContext.inference())
        WorkCounter.isEnabled = false
        let forwardFLOPsPerImage = 2 * Double(WorkCounter.macs) / Double(batch)

        var opt = SGD(momentum: 0.9, nesterov: true, weightDecay: 5e-4)
        var stepRNG = SeededGenerator(seed: 1)
        var tForward = 0.0, tBackward = 0.0, tStep = 0.0
        func trainStep() {
            let t0 = now()
            net.zeroGradients()
            let ctx = ForwardContext(training: true, rng: stepRNG.split())
            let loss = softmaxCrossEntropy(logits: net(Variable(x), ctx), labels: labels)
            let t1 = now()
            loss.backward()
            let t2 = now()
            opt.step(net.parameters, learningRate: 0.05)
            let t3 = now()
            tForward += t1 - t0; tBackward += t2 - t1; tStep += t3 - t2
        }

        // The sgemm reference is timed before and after the model (best of both): on a shared
        // machine the load can change during the run.
        let peakBefore = peakSize > 0 ? sgemmPeak(size: peakSize) : 0
        var train = 0.0, infer = 0.0, trainSteps = 0, cpu0 = 0.0, cpuTrain = 0.0, cpuInfer = 0.0
        if mode != "infer" {
            for _ in 0..<3 { trainStep() }
            tForward = 0; tBackward = 0; tStep = 0
            cpu0 = cpuSeconds()
            let t0 = now()
            // At least one step, however short --seconds is: a rate of nothing timed is no rate.
            repeat { trainStep(); trainSteps += 1 } while now() - t0 < seconds
            train = Double(trainSteps * batch) / (now() - t0)
            cpuTrain = cpuSeconds() - cpu0
        }
        if mode != "train" {
            let infer1 = { inferenceChunk.map { net.predict(x, imagesPerChunk: $0) } ?? net.predict(x) }
            for _ in 0..<3 { _ = infer1() }
            var n = 0
            let c0 = cpuSeconds(), t0 = now()
            repeat { _ = infer1(); n += 1 } while now() - t0 < seconds / 2
            infer = Double(n * batch) / (now() - t0)
            cpuInfer = (cpuSeconds() - c0) / Double(n)
        }
        let params = net.parameterCount
        let input = imageSize == 32 && channels == 3 ? "" : " input=\(imageSize)x\(imageSize)x\(channels)"
        print("engine \(name)\(input) params=\(params) batch=\(batch) threads=\(threads): train \(Int(train.rounded())) img/s, infer \(Int(infer.rounded())) img/s")

        let peak = peakSize > 0 ? max(peakBefore, sgemmPeak(size: peakSize)) : 0
        let trainGF = train * 3 * forwardFLOPsPerImage / 1e9, inferGF = infer * forwardFLOPsPerImage / 1e9
        func pct(_ v: Double) -> String { peak > 0 ? String(format: "%.1f%%", 100 * v / peak) : "n/a" }
        print(String(format: "  work: %.2f MFLOP/image forward (conv+linear MACs x2), training counted as 3x forward", forwardFLOPsPerImage / 1e6))
        print(String(format: "  achieved: train %.1f GFLOP/s (%@ of peak), infer %.1f GFLOP/s (%@ of peak)",
                     trainGF, pct(trainGF), inferGF, pct(inferGF)))
        if peakSize > 0 { print(String(format: "  sgemm peak (%d^3, same threads, best before/after): %.1f GFLOP/s", peakSize, peak)) }
        if breakdown && trainSteps > 0 {
            let s = Double(trainSteps)
            print(String(format: "  train step: forward %.1f ms, backward %.1f ms, optimizer %.1f ms (wall); %.1f CPU-ms per step",
                         1e3 * tForward / s, 1e3 * tBackward / s, 1e3 * tStep / s, 1e3 * cpuTrain / s))
        }
        if breakdown && cpuInfer > 0 {
            // CPU time counts only while the process runs: on a shared machine it compares builds
            // better than img/s (wall time), which includes time the scheduler gave to others.
            print(String(format: "  inference: %.1f CPU-ms per batch", 1e3 * cpuInfer))
        }
        print("  \(BLASRuntime.description); engine threads \(Parallelism.threads), C kernels \(KernelConfiguration.kernelSet)")
        print(String(format: "  peak RSS: %.0f MiB", peakRSSMiB()))
    }
}

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + 1e-9 * Double(ts.tv_nsec)
}

/// User + system CPU time of this process (all threads), seconds.
func cpuSeconds() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * Double(u.ru_utime.tv_usec + u.ru_stime.tv_usec)
}

func peakRSSMiB() -> Double {
    var u = rusage()
    getrusage(RUSAGE_SELF.rawValue, &u)
    return Double(u.ru_maxrss) / 1024  // kilobytes on Linux
}

/// Best of a few timed square sgemms on the configured threads (GFLOP/s).
func sgemmPeak(size n: Int) -> Double {
    var rng = SeededGenerator(seed: 7)
    var a = Tensor(zeros: [n, n]), b = Tensor(zeros: [n, n])
    for i in 0..<a.count { a.scalars[i] = rng.uniform(-1, 1); b.scalars[i] = rng.uniform(-1, 1) }
    var best = 0.0
    for _ in 0..<5 {
        let t0 = now()
        _ = matmulForBenchmark(a, b)
        let dt = now() - t0
        best = max(best, 2 * Double(n) * Double(n) * Double(n) / dt / 1e9)
    }
    return best
}

BLASRuntime.prepareProcess()
EngineBench.main()
