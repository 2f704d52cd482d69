import ArgumentParser
import Datasets
import Engine
import Foundation
import NoisyStudent
import Randomness

/// Plain supervised training on a dataset's full training set: the baseline a user checks first.
struct Supervised: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervised",
        abstract: "Train a classifier on a dataset's full labeled training set and print its test accuracy.")

    @Option(help: "Dataset: fashion-mnist.") var dataset: String = "fashion-mnist"
    @Option(help: "Folder with the Fashion-MNIST IDX files.") var fashionDir: String = FashionMNIST.defaultDirectory
    @Option(help: "Model: resnet, wrn or efficientnet.") var model: String = "resnet"
    @Option(help: "ResNet/WRN depth.") var depth: Int = 8
    @Option(help: "ResNet base width / WRN widening factor.") var width: Int = 16
    @Option(help: "Passes over the training set.") var epochs: Double = 8
    @Option(help: "Batch size.") var batch: Int = 128
    @Option(help: "Peak learning rate (SGD with Nesterov momentum, cosine decay).") var lr: Double = 0.1
    @Option(help: "Weight decay.") var weightDecay: Float = 5e-4
    @Option(help: "Use only this many labeled images per class (default: all).") var labelsPerClass: Int?
    @Option(parsing: .unconditional, help: "Seed.") var seed: UInt64 = 0
    @Option(parsing: .unconditional, help: "BLAS threads.") var threads: Int = 2
    @Option(help: "Write the trained model here (checkpoint).") var save: String?

    func run() throws {
        if let problem = BLASRuntime.threadCountProblem(threads) { throw ValidationError("--threads \(problem)") }
        BLASRuntime.setThreads(threads)
        FileHandle.standardError.write(Data("noisy-student: \(BLASRuntime.description)\n".utf8))
        guard dataset == "fashion-mnist" else {
            throw ValidationError("unknown dataset '\(dataset)' for supervised (available: fashion-mnist)")
        }
        // Bad values stop here, before the data loads.
        let settings = TrainingSettings(epochs: epochs, batchSize: batch, peakLearningRate: lr, warmupEpochs: min(1, epochs / 10),
                                        weightDecay: weightDecay)
        do { try settings.validate("") } catch let e as RecipeError {
            let option = ["batchSize": "--batch", "epochs": "--epochs", "peakLearningRate": "--lr", "weightDecay": "--weight-decay"]
            let field = String(e.key.drop { $0 == "." })
            throw ValidationError("\(option[field] ?? field): \(e.problem)")
        }
        var train = try FashionMNIST.train(directory: fashionDir)
        let test = try FashionMNIST.test(directory: fashionDir)
        if let k = labelsPerClass {
            let split = try Splits.partition(labels: train.labels, spec: SplitSpec(labeledPerClass: k, validationCount: 0, seed: seed))
            train = train.subset(split.labeled)
        }
        let norm = train.channelStatistics()
        let spec: ModelSpec
        switch model {
        case "resnet": spec = .resnet(depth: depth, width: width, inputChannels: 1)
        case "wrn": spec = .wideResNet(depth: depth, width: width, inputChannels: 1)
        case "efficientnet": spec = .efficientNet(width: Double(width) / 16, depth: Double(depth) / 16, inputChannels: 1)
        default: throw ValidationError("unknown model '\(model)' (resnet, wrn, efficientnet)")
        }
        let trainer = Trainer(spec: spec, settings: settings, seed: seed, phase: "supervised", progress: ConsoleProgress())
        print("training \(spec) (\({ var r = SeededGenerator(seed: 0); return spec.build(rng: &r).parameterCount }()) parameters) on \(train.count) images, \(epochs) epochs")
        let trained = try trainer.train(TrainingData(labeled: train, normalization: norm))
        let eval = Evaluator.evaluate(trained.model, on: test, normalization: norm, classes: 10)
        if let save {
            // The same model card as the pipeline's checkpoints: `classify`, `evaluate` and the
            // fit checks read class names, normalisation and input size from it.
            let card = ModelCard(classNames: FashionMNIST.classNames, normalization: norm, inputSize: train.height)
            try RunFolder.writeModel(trained.model, spec: spec, card: card, to: URL(fileURLWithPath: save))
        }
        print(String(format: "test top-1 %.2f%% on %d images (%@), %.0f s training", eval.top1, eval.count, dataset, trained.seconds))
    }
}
