/// The Street View House Numbers cropped-digit files (`train_32x32.mat`, `test_32x32.mat`,
/// `extra_32x32.mat`): `X` is 32x32x3xN uint8 in MATLAB's column-major order, `y` is Nx1 with
/// labels 1...10 where 10 means the digit 0.
public enum SVHN {
    /// Shape of every SVHN cropped-digit image.
    public static let height = 32, width = 32, channels = 3

    /// Loads one SVHN .mat file as NHWC bytes with labels 0...9.
    public static func load(path: String) throws -> ImageSet {
        var images: [UInt8]? = nil
        var imageCount = 0
        var labels: [Int32]? = nil
        try MATFile.read(path: path, wanted: ["X", "y"]) { header, stream in
            switch header.name {
            case "X":
                (images, imageCount) = try readImages(header, stream, path)
            default:
                labels = try readLabels(header, stream, path)
            }
        }
        guard let images else { throw DatasetError.missing(file: path, what: "variable 'X' (the images)") }
        guard let labels else { throw DatasetError.missing(file: path, what: "variable 'y' (the labels)") }
        guard labels.count == imageCount else {
            throw DatasetError.wrongShape(file: path, variable: "y", expected: "\(imageCount)x1 (one label per image in X)",
                                          found: "\(labels.count) labels")
        }
        return ImageSet(height: height, width: width, channels: channels, pixels: images, labels: labels)
    }

    /// Reads X, transposing each image from column-major (row, col, channel) to HWC as it
    /// streams in, so the data is held once.
    static func readImages(_ h: MATFile.MatrixHeader, _ stream: MATStream, _ path: String) throws -> ([UInt8], Int) {
        let shape = h.dims.map(String.init).joined(separator: "x")
        guard h.classID == 9, h.dataType == MATFile.miUINT8 else {
            throw DatasetError.wrongShape(file: path, variable: "X", expected: "uint8", found: "\(h.className) \(shape)")
        }
        // MATLAB drops a trailing singleton dimension, so one image is 32x32x3.
        let dims = h.dims.count == 3 ? h.dims + [1] : h.dims
        guard dims.count == 4, dims[0] == height, dims[1] == width, dims[2] == channels else {
            throw DatasetError.wrongShape(file: path, variable: "X", expected: "32x32x3xN", found: shape)
        }
        let n = dims[3]
        let per = height * width * channels
        var out = [UInt8](repeating: 0, count: n * per)
        let blockImages = 1024
        var block = [UInt8](repeating: 0, count: blockImages * per)
        var done = 0
        try out.withUnsafeMutableBufferPointer { dst in
            while done < n {
                let k = min(blockImages, n - done)
                try block.withUnsafeMutableBytes { raw in
                    try stream.readExactly(into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<(k * per)]),
                                           what: "images \(done)..<\(done + k) of X")
                }
                block.withUnsafeBufferPointer { src in
                    for i in 0..<k {
                        let s = i * per, d = (done + i) * per
                        // Source index: row + 32 * col + 1024 * channel (column-major).
                        for c in 0..<channels {
                            for col in 0..<width {
                                let srcBase = s + c * height * width + col * height
                                for row in 0..<height {
                                    dst[d + (row * width + col) * channels + c] = src[srcBase + row]
                                }
                            }
                        }
                    }
                }
                done += k
            }
        }
        return (out, n)
    }

    /// Reads y (any numeric storage), mapping 1...9 to themselves and 10 to 0.
    static func readLabels(_ h: MATFile.MatrixHeader, _ stream: MATStream, _ path: String) throws -> [Int32] {
        let shape = h.dims.map(String.init).joined(separator: "x")
        guard h.dims.count == 2, h.dims[1] == 1 || h.dims[0] == 1 else {
            throw DatasetError.wrongShape(file: path, variable: "y", expected: "Nx1", found: shape)
        }
        let values = try stream.readNumbers(h)
        var labels = [Int32](repeating: 0, count: values.count)
        for (i, v) in values.enumerated() {
            guard v.isFinite, v == v.rounded(), v >= 1, v <= 10 else {
                // Whole numbers print as such; NaN, fractions and huge values as stored (an
                // Int conversion of those would trap or print nonsense).
                if v == v.rounded(), abs(v) < 1e15 { throw DatasetError.labelOutOfRange(file: path, index: i, value: Int(v)) }
                throw DatasetError.invalidLabel(file: path, index: i, value: "\(v)", expected: "a whole number 1...10")
            }
            labels[i] = Int32(v) % 10
        }
        return labels
    }

    /// Summary printed by `noisy-student data-stats` (labelCounts by digit 0-9).
    public struct Stats: Codable, Equatable, Sendable {
        /// Number of images.
        public var count: Int
        /// Image height in pixels.
        public var height: Int
        /// Image width in pixels.
        public var width: Int
        /// Channels per pixel.
        public var channels: Int
        /// Images per label 0...9.
        public var labelCounts: [Int]
        /// Sum of every pixel byte: a cheap check that two loads read the same data.
        public var pixelSum: UInt64

        /// The statistics of `set`.
        public init(_ set: ImageSet) {
            count = set.count
            height = set.height
            width = set.width
            channels = set.channels
            labelCounts = set.labelCounts(classes: 10)
            pixelSum = set.pixelSum
        }

        /// One JSON object with the keys in the documented order.
        public var json: String {
            "{\"count\": \(count), \"height\": \(height), \"width\": \(width), \"channels\": \(channels), "
                + "\"labelCounts\": [\(labelCounts.map(String.init).joined(separator: ", "))], \"pixelSum\": \(pixelSum)}"
        }
    }
}

extension SVHN {
    /// train, test and (with `includeExtra`) extra from one directory, as NHWC bytes, labels 0...9.
    /// - Throws: `DatasetError` naming the first .mat file that is missing or unreadable.
    public static func loadDirectory(_ directory: String, includeExtra: Bool) throws -> (train: ImageSet, test: ImageSet, extra: ImageSet?) {
        let train = try load(path: directory + "/train_32x32.mat")
        let test = try load(path: directory + "/test_32x32.mat")
        let extra = includeExtra ? try load(path: directory + "/extra_32x32.mat") : nil
        return (train, test, extra)
    }
}
