/// A named, learnable (or tracked) tensor owned by a layer.
///
/// Reference type: layers, optimizers, EMA and checkpoints all refer to the same storage.
/// `trainable == false` marks state such as batch-norm running statistics: saved, averaged and
/// restored with the weights, never touched by an optimizer.
public final class Parameter {
    /// The current weights (or statistics); optimizers update it in place.
    public var value: Tensor
    /// The gradient of the loss with respect to `value`, same shape; backward passes add to it.
    public var grad: Tensor
    /// Whether weight decay applies (conv/linear weights yes; biases and BN scale/shift no).
    public let decays: Bool
    /// Whether optimizers update it (false: batch-norm running statistics).
    public let trainable: Bool

    /// A parameter holding `value`, with a zero gradient of the same shape.
    public init(_ value: Tensor, decays: Bool = true, trainable: Bool = true) {
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.decays = decays
        self.trainable = trainable
    }

    /// The shape of `value` (e.g. HWIO for a convolution kernel).
    public var shape: [Int] { value.shape }

    /// Sets every gradient element to 0 (before the next backward pass).
    public func zeroGrad() {
        grad.scalars.withUnsafeMutableBufferPointer { g in
            g.update(repeating: 0)
        }
    }
}

/// Anything that owns parameters, in a stable order with stable names (the checkpoint layout).
public protocol Module: AnyObject {
    /// Name-prefixed parameters of this module and its children, depth first, in declaration order.
    var namedParameters: [(name: String, parameter: Parameter)] { get }
}

extension Module {
    /// The parameters of `namedParameters`, in the same order.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }
    /// The parameters optimizers update (running statistics left out).
    public var trainableParameters: [Parameter] { parameters.filter(\.trainable) }
    /// Number of trainable scalars (the "parameters" a paper's model table counts).
    public var parameterCount: Int { trainableParameters.reduce(0) { $0 + $1.value.count } }
    /// Zeroes the gradients of every trainable parameter.
    public func zeroGradients() { for p in trainableParameters { p.zeroGrad() } }
}

/// Helper for composite modules: prefixes each child's names with a path component.
public func prefixed(_ prefix: String, _ module: Module) -> [(name: String, parameter: Parameter)] {
    module.namedParameters.map { (name: "\(prefix).\($0.name)", parameter: $0.parameter) }
}
