import Foundation

/// The IDX format of MNIST and Fashion-MNIST (optionally gzip-compressed): a 4-byte magic
/// (two zero bytes, an element type, the number of dimensions), the dimensions as big-endian
/// 32-bit integers, then the data row-major.
public enum IDX {
    /// An IDX array of unsigned bytes (the only element type the image and label files use).
    public struct Array: Sendable, Equatable {
        /// Extent of each dimension as the header gives it (e.g. [N, 28, 28] for images, [N] for labels).
        public var dims: [Int]
        /// The elements in row-major order (product of `dims` bytes).
        public var bytes: [UInt8]
    }

    /// Reads a `.gz` or plain IDX file of unsigned bytes.
    public static func read(path: String) throws -> Array {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DatasetError.unreadable(file: path, reason: error.localizedDescription)
        }
        let raw: [UInt8] = try data.withUnsafeBytes { (b: UnsafeRawBufferPointer) -> [UInt8] in
            if b.count >= 2 && b[0] == 0x1F && b[1] == 0x8B {
                return try Inflater(input: b, format: .gzip, file: path).readAll(what: "the IDX file")
            }
            return [UInt8](b)
        }
        return try parse(raw, file: path)
    }

    /// Parses uncompressed IDX bytes.
    public static func parse(_ b: [UInt8], file: String) throws -> Array {
        guard b.count >= 4 else {
            throw DatasetError.truncated(file: file, detail: "\(b.count) bytes, shorter than the 4-byte IDX magic")
        }
        guard b[0] == 0, b[1] == 0 else {
            throw DatasetError.unsupportedFormat(file: file, reason: "not an IDX file (magic starts \(b[0]) \(b[1]), expected 0 0)")
        }
        guard b[2] == 0x08 else {
            throw DatasetError.unsupportedFormat(file: file, reason: "IDX element type 0x\(String(b[2], radix: 16)), only unsigned bytes (0x08) are supported")
        }
        let ndims = Int(b[3])
        guard ndims >= 1 && ndims <= 4 else {
            throw DatasetError.malformed(file: file, detail: "IDX with \(ndims) dimensions")
        }
        guard b.count >= 4 + 4 * ndims else {
            throw DatasetError.truncated(file: file, detail: "header announces \(ndims) dimensions but the file ends inside them")
        }
        var dims: [Int] = []
        var total = 1
        for k in 0..<ndims {
            let o = 4 + 4 * k
            let d = Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3])
            dims.append(d)
            guard d >= 1 else {
                throw DatasetError.malformed(file: file, detail: "IDX dimension \(k + 1) is 0 (dimensions \(dims)); an array needs at least one element per dimension")
            }
            let (p, overflow) = total.multipliedReportingOverflow(by: d)
            guard !overflow, p <= 1 << 36 else {
                throw DatasetError.malformed(file: file, detail: "implausible dimensions \(dims)")
            }
            total = p
        }
        let start = 4 + 4 * ndims
        let available = b.count - start
        if available < total {
            throw DatasetError.truncated(file: file, detail: "dimensions \(dims) need \(total) bytes of data, the file has \(available)")
        }
        if available > total {
            throw DatasetError.malformed(file: file, detail: "\(available - total) bytes after the data announced by dimensions \(dims)")
        }
        return Array(dims: dims, bytes: Swift.Array(b[start...]))
    }

    /// Combines an image file (N x H x W) and a label file (N) into a single-channel ImageSet.
    public static func loadImages(imagesPath: String, labelsPath: String, classes: Int = 10) throws -> ImageSet {
        let images = try read(path: imagesPath)
        let labels = try read(path: labelsPath)
        guard images.dims.count == 3 else {
            throw DatasetError.wrongShape(file: imagesPath, variable: "images", expected: "N x H x W",
                                          found: images.dims.map(String.init).joined(separator: " x "))
        }
        guard labels.dims.count == 1 else {
            throw DatasetError.wrongShape(file: labelsPath, variable: "labels", expected: "N",
                                          found: labels.dims.map(String.init).joined(separator: " x "))
        }
        guard labels.dims[0] == images.dims[0] else {
            throw DatasetError.wrongShape(file: labelsPath, variable: "labels", expected: "\(images.dims[0]) (one per image)",
                                          found: "\(labels.dims[0])")
        }
        var out = [Int32](repeating: 0, count: labels.bytes.count)
        for (i, l) in labels.bytes.enumerated() {
            guard Int(l) < classes else { throw DatasetError.labelOutOfRange(file: labelsPath, index: i, value: Int(l)) }
            out[i] = Int32(l)
        }
        return ImageSet(height: images.dims[1], width: images.dims[2], channels: 1, pixels: images.bytes, labels: out)
    }
}

/// Fashion-MNIST (Zalando), 28x28 grey clothes in 10 classes, as Debian's
/// `dataset-fashion-mnist` installs it.
public enum FashionMNIST {
    /// Where Debian's `dataset-fashion-mnist` package puts the four IDX files.
    public static let defaultDirectory = "/usr/share/datasets/fashion-mnist"
    /// The ten class names, indexed by label.
    public static let classNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    /// The 60,000 training images.
    public static func train(directory: String = defaultDirectory) throws -> ImageSet {
        try IDX.loadImages(imagesPath: directory + "/train-images-idx3-ubyte.gz",
                           labelsPath: directory + "/train-labels-idx1-ubyte.gz")
    }

    /// The 10,000 test images.
    public static func test(directory: String = defaultDirectory) throws -> ImageSet {
        try IDX.loadImages(imagesPath: directory + "/t10k-images-idx3-ubyte.gz",
                           labelsPath: directory + "/t10k-labels-idx1-ubyte.gz")
    }
}
