import CBLAS

/// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, with op(A) m x k and
/// op(B) k x n. Thin wrapper over OpenBLAS so call sites read like the math.
@inline(__always)
func sgemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
           alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
           b: UnsafePointer<Float>, ldb: Int,
           beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    guard m > 0, n > 0 else { return }
    if k == 0 {  // BLAS leaves C untouched for k == 0 only when beta == 1; be explicit.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// a [m, k] x b [k, n] on OpenBLAS, for benchmarks that want the library's peak as a reference.
public func matmulForBenchmark(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0], "matmul: \(a.shape) x \(b.shape)")
    let m = a.shape[0], k = a.shape[1], n = b.shape[1]
    return Tensor(shape: [m, n]) { c in
        a.scalars.withUnsafeBufferPointer { ap in
            b.scalars.withUnsafeBufferPointer { bp in
                sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: c.baseAddress!, ldc: n)
            }
        }
    }
}
