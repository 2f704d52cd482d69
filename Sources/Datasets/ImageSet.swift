import SystemSupport

/// A set of equally sized images stored as bytes, NHWC, with one label per image.
///
/// Images stay `UInt8` for their whole life: SVHN's extra set alone is 1.6 GB as bytes and
/// would be 6.5 GB as Float. Conversion to the engine's Float NHWC happens per batch
/// (`floatBatch`), never for a whole set.
public struct ImageSet: Sendable, Equatable {
    /// Number of images (and labels).
    public private(set) var count: Int
    /// Image height in pixels.
    public let height: Int
    /// Image width in pixels.
    public let width: Int
    /// Channels per pixel: 3 (RGB) or 1 (grey).
    public let channels: Int
    /// count x height x width x channels bytes, image after image, row after row, channels last.
    public private(set) var pixels: [UInt8]
    /// One label per image (class index, or -1 when the label is deliberately withheld).
    public private(set) var labels: [Int32]

    /// Bytes in one image.
    @inlinable public var imageSize: Int { height * width * channels }

    /// A set from NHWC bytes and one label per image (-1: unlabeled). Traps when the byte count is
    /// not labels.count x height x width x channels.
    public init(height: Int, width: Int, channels: Int, pixels: [UInt8], labels: [Int32]) {
        precondition(height > 0 && width > 0 && channels > 0, "ImageSet: image dimensions must be positive")
        precondition(pixels.count == labels.count * height * width * channels,
                     "ImageSet: \(pixels.count) bytes do not hold \(labels.count) images of \(height)x\(width)x\(channels)")
        self.count = labels.count
        self.height = height
        self.width = width
        self.channels = channels
        self.pixels = pixels
        self.labels = labels
    }

    /// An empty set of the given image shape.
    public init(height: Int, width: Int, channels: Int) {
        self.init(height: height, width: width, channels: channels, pixels: [], labels: [])
    }

    /// The bytes of image `i` (HWC).
    public func image(_ i: Int) -> ArraySlice<UInt8> {
        pixels[(i * imageSize)..<((i + 1) * imageSize)]
    }

    /// The images at `indices`, in that order (indices may repeat: balancing duplicates images).
    public func subset(_ indices: [Int]) -> ImageSet {
        let n = imageSize
        var out = [UInt8](repeating: 0, count: indices.count * n)
        var outLabels = [Int32](repeating: 0, count: indices.count)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "ImageSet.subset: index \(i) outside 0..<\(count)")
                    guard let s = src.baseAddress, let d = dst.baseAddress else { return }
                    (d + k * n).update(from: s + i * n, count: n)
                    outLabels[k] = labels[i]
                }
            }
        }
        return ImageSet(height: height, width: width, channels: channels, pixels: out, labels: outLabels)
    }

    /// The same images with different labels (e.g. withheld as -1, or pseudo labels).
    public func relabeled(_ newLabels: [Int32]) -> ImageSet {
        precondition(newLabels.count == count, "ImageSet.relabeled: \(newLabels.count) labels for \(count) images")
        var copy = self
        copy.labels = newLabels
        return copy
    }

    /// Appends the images of `other` (same shape).
    public mutating func append(contentsOf other: ImageSet) {
        precondition(other.height == height && other.width == width && other.channels == channels,
                     "ImageSet.append: shapes differ")
        pixels.append(contentsOf: other.pixels)
        labels.append(contentsOf: other.labels)
        count += other.count
    }

    /// Appends one image given as HWC bytes.
    public mutating func append(image: some Collection<UInt8>, label: Int32) {
        precondition(image.count == imageSize, "ImageSet.append: image has \(image.count) bytes, expected \(imageSize)")
        pixels.append(contentsOf: image)
        labels.append(label)
        count += 1
    }

    /// Images per class 0..<classes (labels outside the range are not counted).
    public func labelCounts(classes: Int = 10) -> [Int] {
        var counts = [Int](repeating: 0, count: classes)
        for l in labels where l >= 0 && Int(l) < classes { counts[Int(l)] += 1 }
        return counts
    }

    /// The sum of all pixel bytes (a cheap fingerprint used by `data-stats` and tests).
    public var pixelSum: UInt64 {
        pixels.withUnsafeBufferPointer { p in
            var total: UInt64 = 0
            // Sum in blocks so the inner loop stays in 32-bit lanes (2^24 bytes * 255 < 2^32).
            var start = 0
            while start < p.count {
                let end = min(start + 1 << 24, p.count)
                var block: UInt32 = 0
                for i in start..<end { block &+= UInt32(p[i]) }
                total += UInt64(block)
                start = end
            }
            return total
        }
    }

    /// Per-channel mean and standard deviation of the pixels in [0, 1] (for `Normalization`).
    public func channelStatistics(sampleLimit: Int = 20_000) -> Normalization {
        let n = Swift.min(count, sampleLimit)
        var sum = [Double](repeating: 0, count: channels)
        var sumSq = [Double](repeating: 0, count: channels)
        guard n > 0 else { return .unit(channels: channels) }
        // Spread the sample over the whole set so ordered sets (sorted by class) are fair.
        let step = Swift.max(1, count / n)
        var used = 0
        pixels.withUnsafeBufferPointer { p in
            var i = 0
            while i < count && used < n {
                let base = i * imageSize
                for k in 0..<(height * width) {
                    for c in 0..<channels {
                        let v = Double(p[base + k * channels + c]) / 255
                        sum[c] += v
                        sumSq[c] += v * v
                    }
                }
                used += 1
                i += step
            }
        }
        let m = Double(used * height * width)
        let mean = sum.map { Float($0 / m) }
        let std = (0..<channels).map { c in Float(Swift.max(sumSq[c] / m - (sum[c] / m) * (sum[c] / m), 1e-12).squareRoot()) }
        return Normalization(mean: mean, std: std)
    }
}

/// Per-channel normalisation applied when bytes become Floats: (x / 255 - mean[c]) / std[c].
public struct Normalization: Sendable, Codable, Equatable {
    /// Per-channel mean of x / 255.
    public var mean: [Float]
    /// Per-channel standard deviation of x / 255 (all > 0).
    public var std: [Float]

    /// One mean and std per channel; traps on empty or mismatched lists or a std <= 0.
    public init(mean: [Float], std: [Float]) {
        precondition(mean.count == std.count && !mean.isEmpty, "Normalization: mean and std need one value per channel")
        precondition(std.allSatisfy { $0 > 0 }, "Normalization: std must be positive")
        self.mean = mean
        self.std = std
    }

    /// x / 255, nothing else.
    public static func unit(channels: Int) -> Normalization {
        Normalization(mean: .init(repeating: 0, count: channels), std: .init(repeating: 1, count: channels))
    }

    /// Maps bytes to [-1, 1].
    public static func symmetric(channels: Int) -> Normalization {
        Normalization(mean: .init(repeating: 0.5, count: channels), std: .init(repeating: 0.5, count: channels))
    }
}

/// One batch for the engine: Float NHWC images and their labels.
public struct Batch: Sendable {
    /// count x height x width x channels normalised Floats, NHWC.
    public var images: [Float]
    /// One label per image (-1 for unlabeled images).
    public var labels: [Int32]
    /// Positions of these images in their source set (pseudo labels are looked up by them).
    public var indices: [Int]
    /// Image height in pixels.
    public var height: Int
    /// Image width in pixels.
    public var width: Int
    /// Channels per pixel.
    public var channels: Int
    /// Images in the batch.
    public var count: Int { labels.count }

    /// A batch from NHWC Floats, labels and source positions (one each per image).
    public init(images: [Float], labels: [Int32], indices: [Int], height: Int, width: Int, channels: Int) {
        self.images = images
        self.labels = labels
        self.indices = indices
        self.height = height
        self.width = width
        self.channels = channels
    }
}

extension ImageSet {
    /// Float NHWC for the images at `indices`, normalised per channel.
    public func floatBatch(indices: [Int], normalization: Normalization) -> Batch {
        var out = [Float](repeating: 0, count: indices.count * imageSize)
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for (k, i) in indices.enumerated() {
                    precondition(i >= 0 && i < count, "floatBatch: index \(i) outside 0..<\(count)")
                    Self.convert(UnsafeBufferPointer(rebasing: src[(i * imageSize)..<((i + 1) * imageSize)]),
                                 into: UnsafeMutableBufferPointer(rebasing: dst[(k * imageSize)..<((k + 1) * imageSize)]),
                                 channels: channels, normalization: normalization)
                }
            }
        }
        return Batch(images: out, labels: indices.map { labels[$0] }, indices: indices,
                     height: height, width: width, channels: channels)
    }

    /// Converts one HWC byte image to normalised Floats (shared with the augmenting loader).
    @inlinable
    public static func convert(_ src: UnsafeBufferPointer<UInt8>, into dst: UnsafeMutableBufferPointer<Float>,
                               channels: Int, normalization: Normalization) {
        precondition(normalization.mean.count == channels, "Normalization has \(normalization.mean.count) channels, images have \(channels)")
        // scale[c] * x + shift[c] == (x / 255 - mean[c]) / std[c]
        var scale = [Float](repeating: 0, count: channels)
        var shift = [Float](repeating: 0, count: channels)
        for c in 0..<channels {
            scale[c] = 1 / (255 * normalization.std[c])
            shift[c] = -normalization.mean[c] / normalization.std[c]
        }
        if channels == 3 {
            let s0 = scale[0], s1 = scale[1], s2 = scale[2], t0 = shift[0], t1 = shift[1], t2 = shift[2]
            var i = 0
            while i + 2 < src.count {
                dst[i] = Float(src[i]) * s0 + t0
                dst[i + 1] = Float(src[i + 1]) * s1 + t1
                dst[i + 2] = Float(src[i + 2]) * s2 + t2
                i += 3
            }
        } else {
            for i in 0..<src.count {
                let c = i % channels
                dst[i] = Float(src[i]) * scale[c] + shift[c]
            }
        }
    }
}

extension ImageSet {
    /// Greyscale images with the grey value copied to R, G and B (corruptions and colour ops
    /// are defined on RGB); RGB sets are returned unchanged.
    public func expandedToRGB() -> ImageSet {
        guard channels == 1 else { return self }
        var out = [UInt8](repeating: 0, count: pixels.count * 3)
        for i in 0..<pixels.count {
            let v = pixels[i]
            out[3 * i] = v; out[3 * i + 1] = v; out[3 * i + 2] = v
        }
        return ImageSet(height: height, width: width, channels: 3, pixels: out, labels: labels)
    }

    /// MD5 of shape, pixels and labels: a content fingerprint for cache keys.
    public var fingerprint: String {
        let md5 = MessageDigest(.md5)
        md5.update(Array("\(count)x\(height)x\(width)x\(channels)".utf8))
        pixels.withUnsafeBytes { md5.update($0) }
        labels.withUnsafeBytes { md5.update($0) }
        return md5.finalize()
    }
}
