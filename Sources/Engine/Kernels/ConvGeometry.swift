/// Shapes of one 2-D convolution over NHWC input with HWIO weights ([kh, kw, cin/groups, cout]).
public struct ConvGeometry: Hashable, Sendable {
    /// The input's N, H, W, C.
    public var batch: Int, height: Int, width: Int, inChannels: Int
    /// Output channels and the kernel's height and width.
    public var outChannels: Int, kernelH: Int, kernelW: Int
    /// Strides and zero padding per side, in pixels.
    public var strideH: Int, strideW: Int, padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    /// Channel groups (1: dense; = channels: depthwise).
    public var groups: Int

    /// The geometry of a square `kernel` with one `stride`; `padding` nil pads like TensorFlow "SAME"
    /// (the extra pixel of an odd total goes to the bottom/right), an integer pads every side by it.
    /// Traps when the channels are not divisible by `groups`.
    public init(batch: Int, height: Int, width: Int, inChannels: Int, outChannels: Int,
                kernel: Int, stride: Int, padding: Int? = nil, groups: Int = 1) {
        self.batch = batch; self.height = height; self.width = width
        self.inChannels = inChannels; self.outChannels = outChannels
        self.kernelH = kernel; self.kernelW = kernel
        self.strideH = stride; self.strideW = stride
        // "same"-style default: TF-like padding that keeps ceil(size/stride) outputs.
        if let p = padding {
            padTop = p; padLeft = p; padBottom = p; padRight = p
        } else {
            let padH = max((Self.ceilDiv(height, stride) - 1) * stride + kernel - height, 0)
            let padW = max((Self.ceilDiv(width, stride) - 1) * stride + kernel - width, 0)
            padTop = padH / 2; padBottom = padH - padH / 2
            padLeft = padW / 2; padRight = padW - padW / 2
        }
        self.groups = groups
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "conv: channels \(inChannels)->\(outChannels) not divisible by groups \(groups)")
    }

    static func ceilDiv(_ a: Int, _ b: Int) -> Int { (a + b - 1) / b }

    /// Output rows.
    public var outHeight: Int { (height + padTop + padBottom - kernelH) / strideH + 1 }
    /// Output columns.
    public var outWidth: Int { (width + padLeft + padRight - kernelW) / strideW + 1 }
    /// Input channels each group sees (the kernel's I axis).
    public var inPerGroup: Int { inChannels / groups }
    /// Output channels each group makes.
    public var outPerGroup: Int { outChannels / groups }
    /// One filter per channel (EfficientNet's MBConv middle convolution).
    var isDepthwise: Bool { groups == inChannels && groups == outChannels }
    /// A 1x1, stride 1, unpadded convolution: a matrix product over pixels.
    var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1
            && padTop == 0 && padLeft == 0 && padBottom == 0 && padRight == 0
    }
    /// NHWC shape of the input.
    public var inputShape: [Int] { [batch, height, width, inChannels] }
    /// NHWC shape of the output.
    public var outputShape: [Int] { [batch, outHeight, outWidth, outChannels] }
    /// HWIO shape of the kernel.
    public var weightShape: [Int] { [kernelH, kernelW, inPerGroup, outChannels] }
    /// Multiply-adds of the forward pass.
    public var macs: Int { batch * outHeight * outWidth * outChannels * kernelH * kernelW * inPerGroup }
}
