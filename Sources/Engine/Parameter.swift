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
///
/// A module lists its parameters once: a leaf layer its own tensors (`ownParameters`), a
/// composite its sub-modules (`children`, as mlx-swift's `Module.children()`); `namedParameters`
/// is derived from both, so the optimizer, the EMA and checkpoints all see every layer a
/// composite lists, under the same names.
public protocol Module: AnyObject {
    /// This module's own tensors, named (e.g. a convolution's `weight` and `bias`); none by default.
    var ownParameters: [(name: String, parameter: Parameter)] { get }
    /// Sub-modules by name, in the order their parameters are listed (the order of optimizer
    /// and EMA slots in a checkpoint); none by default. A name may contain dots (`shortcut.conv`).
    var children: [(name: String, module: any Module)] { get }
}

extension Module {
    /// None: a composite module's tensors all belong to its children.
    public var ownParameters: [(name: String, parameter: Parameter)] { [] }
    /// None: a leaf layer.
    public var children: [(name: String, module: any Module)] { [] }

    /// Name-prefixed parameters of this module and its children, depth first: own tensors, then
    /// each child's as `child.name`.
    public var namedParameters: [(name: String, parameter: Parameter)] {
        ownParameters + children.flatMap { child in
            child.module.namedParameters.map { (name: "\(child.name).\($0.name)", parameter: $0.parameter) }
        }
    }

    /// Every parameter (running statistics included), in `namedParameters` order.
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }
    /// The parameters an optimizer updates (running statistics excluded).
    public var trainableParameters: [Parameter] { parameters.filter(\.trainable) }
    /// Number of trainable scalars.
    public var parameterCount: Int { trainableParameters.reduce(0) { $0 + $1.value.count } }
    /// Sets every trainable parameter's gradient to zero.
    public func zeroGradients() { for p in trainableParameters { p.zeroGrad() } }
}
