import CKernels

/// A node of the reverse-mode autodiff graph: a value, and how to send a gradient to its inputs.
///
/// Ops build the graph as they run (define-by-run, as tinygrad and PyTorch do). A node that no
/// gradient can reach (no parameter or input that wants one upstream) keeps no parents and no
/// backward closure, so inference records nothing and frees activations as it goes.
public final class Variable {
    /// The forward value.
    public let value: Tensor
    /// Gradient of the loss with respect to `value`, filled in by `backward()` for leaves that
    /// asked for it (`requiresGrad`) and for parameters (also accumulated into `Parameter.grad`).
    public private(set) var grad: Tensor?
    /// Whether a gradient flows to this node (it is a leaf that asked, or depends on one).
    public let requiresGrad: Bool

    fileprivate let parents: [Variable]
    /// Maps the gradient of this node to gradients of each parent (nil: no gradient to that one).
    fileprivate let pullback: ((Tensor) -> [Tensor?])?
    fileprivate let parameter: Parameter?

    /// A leaf. `requiresGrad` asks for the gradient with respect to this value (e.g. an image for FGSM).
    public init(_ value: Tensor, requiresGrad: Bool = false) {
        self.value = value
        self.requiresGrad = requiresGrad
        self.parents = []
        self.pullback = nil
        self.parameter = nil
    }

    /// A leaf bound to a parameter; its gradient accumulates into `parameter.grad`.
    public init(_ parameter: Parameter, recording: Bool) {
        self.value = parameter.value
        self.requiresGrad = recording && parameter.trainable
        self.parents = []
        self.pullback = nil
        self.parameter = recording && parameter.trainable ? parameter : nil
    }

    /// The result of an op. The pullback is kept only when some parent needs a gradient.
    public init(_ value: Tensor, parents: [Variable], pullback: @escaping (Tensor) -> [Tensor?]) {
        self.value = value
        let needed = parents.contains { $0.requiresGrad }
        self.requiresGrad = needed
        self.parents = needed ? parents : []
        self.pullback = needed ? pullback : nil
        self.parameter = nil
    }

    /// The shape of `value`.
    public var shape: [Int] { value.shape }

    /// Back-propagates from this node (a scalar loss by default, seeded with 1).
    public func backward(seed: Tensor? = nil) {
        precondition(seed != nil || value.count == 1, "backward() without a seed needs a scalar, got \(value.shape)")
        guard requiresGrad else { return }
        let order = topologicalOrder()
        grad = seed ?? Tensor(repeating: 1, shape: value.shape)
        for node in order.reversed() {
            guard let g = node.grad else { continue }
            if let p = node.parameter {
                accumulate(into: &p.grad, g)
            }
            if let pullback = node.pullback {
                let grads = pullback(g)
                for (parent, pg) in zip(node.parents, grads) where parent.requiresGrad {
                    guard let pg else { continue }
                    if parent.grad == nil { parent.grad = pg } else { accumulate(into: &parent.grad!, pg) }
                }
                // Intermediate gradients are not needed once passed on: free them early.
                node.grad = nil
            }
        }
    }

    /// Nodes reachable from self, parents before children (iterative DFS: graphs can be deep).
    private func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Variable, Bool)] = [(self, false)]
        while let (node, expanded) = stack.popLast() {
            if expanded { order.append(node); continue }
            guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
            stack.append((node, true))
            for p in node.parents where p.requiresGrad && !visited.contains(ObjectIdentifier(p)) {
                stack.append((p, false))
            }
        }
        return order
    }
}

/// target += g element-wise (a gradient reaching a node from a second child, such as a residual
/// block's input). The C kernel over thread-count chunks: each element's sum is the same for any
/// split, and the pass no longer runs on one core while the others wait.
func accumulate(into target: inout Tensor, _ g: Tensor) {
    precondition(target.shape == g.shape, "gradient shape \(g.shape) does not match \(target.shape)")
    target.scalars.withUnsafeMutableBufferPointer { t in
        g.scalars.withUnsafeBufferPointer { s in
            guard let tb = t.baseAddress, let sb = s.baseAddress else { return }
            let pt = UncheckedSendable(tb), ps = UncheckedSendable(sb)
            Parallelism.forRanges(t.count) { lo, hi in ck_accumulate(pt.value + lo, ps.value + lo, hi - lo) }
        }
    }
}
