/// Where a run's images come from, so the pipeline can say "which data" in one value (and put
/// it into cache keys) instead of knowing each loader.
public enum DataSource: Sendable, Equatable, Codable {
    /// The embedded generator: `unlabeled` and `test` images drawn on demand.
    case synthetic(parameters: SyntheticHouseNumbers.Parameters, unlabeled: Int, test: Int)
    /// Real SVHN .mat files in `directory`; the unlabeled pool is `extra_32x32.mat` when
    /// `useExtra`, else what remains of train after the labeled and validation images.
    case svhn(directory: String, useExtra: Bool)
    /// Debian's Fashion-MNIST; the unlabeled pool is the rest of the training set.
    case fashionMNIST(directory: String)

    public var name: String {
        switch self {
        case .synthetic: return "synthetic house numbers"
        case .svhn: return "SVHN"
        case .fashionMNIST: return "Fashion-MNIST"
        }
    }
}

extension SVHN {
    /// train, test and (optionally) extra from one directory.
    public static func loadDirectory(_ directory: String, includeExtra: Bool) throws -> (train: ImageSet, test: ImageSet, extra: ImageSet?) {
        let train = try load(path: directory + "/train_32x32.mat")
        let test = try load(path: directory + "/test_32x32.mat")
        let extra = includeExtra ? try load(path: directory + "/extra_32x32.mat") : nil
        return (train, test, extra)
    }
}

extension Splits {
    /// Loads (or generates) the data and cuts it into the four roles.
    public static func load(_ source: DataSource, spec: SplitSpec, threads: Int = 1) throws -> DataSplits {
        switch source {
        case let .synthetic(parameters, unlabeled, test):
            return try synthetic(generator: SyntheticHouseNumbers(parameters: parameters), spec: spec,
                                 unlabeledCount: unlabeled, testCount: test, threads: threads)
        case let .svhn(directory, useExtra):
            let files = try SVHN.loadDirectory(directory, includeExtra: useExtra)
            if let extra = files.extra {
                return try svhn(train: files.train, extra: extra, test: files.test, spec: spec)
            }
            return try make(train: files.train, test: files.test, spec: spec)
        case let .fashionMNIST(directory):
            return try make(train: FashionMNIST.train(directory: directory), test: FashionMNIST.test(directory: directory), spec: spec)
        }
    }
}

extension Normalization {
    /// The ImageNet statistics the official EfficientNet input pipeline subtracts (also for
    /// SVHN in the Noisy Student code): mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225).
    public static let imagenet = Normalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
}
