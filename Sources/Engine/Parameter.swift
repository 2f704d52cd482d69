/// A named, learnable (or tracked) tensor owned by a layer.
///
/// Reference type: layers, optimizers, EMA and checkpoints all refer to the same storage.
/// `trainable == false` marks state such as batch-norm running statistics: saved, averaged and
/// restored with the weights, never touched by an optimizer.
public final class Parameter {
    public var value: Tensor
    public var grad: Tensor
    /// Whether weight decay applies (conv/linear weights yes; biases and BN scale/shift no).
    public let decays: Bool
    public let trainable: Bool

    public init(_ value: Tensor, decays: Bool = true, trainable: Bool = true) {
        self.value = value
        self.grad = Tensor(zeros: value.shape)
        self.decays = decays
        self.trainable = trainable
    }

    public var shape: [Int] { value.shape }

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
    public var parameters: [Parameter] { namedParameters.map(\.parameter) }
    public var trainableParameters: [Parameter] { parameters.filter(\.trainable) }
    public var parameterCount: Int { trainableParameters.reduce(0) { $0 + $1.value.count } }
    public func zeroGradients() { for p in trainableParameters { p.zeroGrad() } }
}

/// Helper for composite modules: prefixes each child's names with a path component.
public func prefixed(_ prefix: String, _ module: Module) -> [(name: String, parameter: Parameter)] {
    module.namedParameters.map { (name: "\(prefix).\($0.name)", parameter: $0.parameter) }
}
