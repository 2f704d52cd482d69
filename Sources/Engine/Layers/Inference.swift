/// Inference on a batch in chunks of images, each chunk run through the whole network by one
/// worker. Layer by layer over the whole batch, every activation map (batch x H x W x C) outgrows
/// the caches and each layer streams its input from memory; a chunk of a few images keeps a
/// layer's input and output in the worker's L2 from one layer to the next. With the engine's
/// direct kernels (the default) an inference pass computes each image alone (batch norm uses its
/// running statistics; `logitsDoNotDependOnTheBatch`), so the outputs are the same bits whatever
/// the chunk size, thread count or which worker ran which chunk. A lowered
/// `KernelConfiguration.gemmChannelProduct` sends convolutions to OpenBLAS, whose results depend
/// on the batch (and whose own threads then run beside each worker's).
extension Layer {
    /// The outputs (logits, [N, classes]) of an inference pass over `x` ([N, H, W, C], NHWC).
    ///
    /// `imagesPerChunk`: images per worker task (at least 1). The default, 16, was measured with
    /// `engine-bench --inference-chunk` on ResNet-8 w16, ResNet-20 w16 and ResNet-26 w32 (see
    /// docs/performance.md); a batch of at most that many images runs as one pass.
    public func predict(_ x: Tensor, imagesPerChunk: Int = 16) -> Tensor {
        let n = x.shape.first ?? 0
        let chunk = max(1, imagesPerChunk)
        if n <= chunk { return self(Variable(x), ForwardContext.inference()).value }
        let input = Variable(x)  // records nothing: `rows` of it keeps no graph
        let chunks = (n + chunk - 1) / chunk
        let weights = WinogradWeightCache()  // each layer's transform made once for all chunks
        var outputs = [Tensor?](repeating: nil, count: chunks)
        outputs.withUnsafeMutableBufferPointer { slots in
            let out = UncheckedSendable(slots)
            Parallelism.forEachDynamic(chunks) { c in
                let part = rows(input, (c * chunk)..<min(n, (c + 1) * chunk))
                // Each worker runs its chunk's layers alone: no region wakes the other workers.
                out.value[c] = Parallelism.runAlone { self(part, ForwardContext.inference(sharing: weights)).value }
            }
        }
        let parts = outputs.compactMap { $0 }
        precondition(parts.count == chunks, "predict: a chunk produced no output")
        return Tensor(rowsOf: parts)
    }
}

extension Tensor {
    /// The tensors' rows (first dimension) one after another: shapes [n_i, rest...] with the same
    /// rest give [sum n_i, rest...].
    init(rowsOf parts: [Tensor]) {
        let rest = Array(parts.first?.shape.dropFirst() ?? [])
        precondition(parts.allSatisfy { Array($0.shape.dropFirst()) == rest }, "Tensor(rowsOf:): parts differ past the first dimension")
        let rows = parts.reduce(0) { $0 + ($1.shape.first ?? 0) }
        var scalars: [Float] = []
        scalars.reserveCapacity(parts.reduce(0) { $0 + $1.count })
        for p in parts { scalars += p.scalars }
        self.init(shape: [rows] + rest, scalars: scalars)
    }
}
