#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

/// Version of the kernel set (bumped when numerics change).
int ck_version(void);

// The kernel paths (ck_isa_t, ck_isa, ...) live in CKernelPath; every kernel here takes one.
#include "CKernelPath.h"

/// A dense (groups == 1) 2-D convolution over NHWC input with HWIO weights [kh, kw, cin, cout].
/// `isa` -1 runs the process's path (`ck_isa`); a `ck_isa_t` value runs that path for this call
/// (tests compare the paths in one process; the CPU must support it, `ck_isa_supported`).
typedef struct {
    int n, h, w, cin, cout, kh, kw, sh, sw, pt, pl, pb, pr;
    int isa;
} ck_conv_geom;

static inline int ck_out_h(const ck_conv_geom *g) { return (g->h + g->pt + g->pb - g->kh) / g->sh + 1; }
static inline int ck_out_w(const ck_conv_geom *g) { return (g->w + g->pl + g->pr - g->kw) / g->sw + 1; }

/// What a convolution's output goes through before it is stored, applied in this order:
/// y * a + b per channel (inference batch norm; a == NULL: none), + skip (NULL: none, else a
/// tensor shaped like y), ReLU (relu != 0). The values are those of the separate ops. Then, when
/// moments is not NULL, each image's batch-norm moments of the result (ck_bn_moments over its
/// image_rows rows) go to moments + 2 * c * image: a training batch norm's statistics taken while
/// the output is in cache, the same values as ck_bn_moments over the stored tensor.
typedef struct {
    const float *a, *b;
    const float *skip;
    int relu;
    double *moments;
    size_t image_rows;
} ck_epilogue;

/// Applies an epilogue to rows [r0, r1) of y ([rows, c], in place). With moments, r0 and r1
/// must be multiples of image_rows (whole images).
void ck_epilogue_rows(const ck_epilogue *e, float *y, size_t c, size_t r0, size_t r1);

/// y = conv(x, w) for images [n0, n1) (y overwritten). x, y point at image 0. A non-NULL
/// epilogue is applied to each image's output right after it is computed (still in cache).
void ck_conv_forward(const ck_conv_geom *g, const float *x, const float *w, float *y, int n0, int n1,
                     const ck_epilogue *epilogue);

/// wflip[ky][kx][co][ci] = w[kh-1-ky][kw-1-kx][ci][co]: the weights of the transposed convolution.
void ck_conv_flip_weights(const ck_conv_geom *g, const float *w, float *wflip);

/// 1 when the Winograd F(4x4, 3x3) kernels (forward, input and weight gradients) run this
/// geometry on its path: a 3x3 stride-1 kernel (any padding), cin 16, 32, 64 or 128 (the channel
/// counts with a register tile), and a vector path (AVX-512 or AVX2; the portable path has none).
int ck_winograd_supported(const ck_conv_geom *g);

/// Floats of ck_winograd4_weights' output for g (0 when g's path has no Winograd kernels).
size_t ck_winograd4_weights_count(const ck_conv_geom *g);

/// (G g G^T)[e] for each 3x3 kernel g = w[.][.][ci][co] (w HWIO [3][3][cin][cout]; e = 6 * row +
/// column): the weight transform of Winograd F(4x4, 3x3) (Lavin & Gray 2015, points 0, 1, -1,
/// 2, -2), into u (ck_winograd4_weights_count(g) floats) packed for g's path: [36][block][cin][B],
/// B output channels per block (zero-padded). The same values on every path.
void ck_winograd4_weights(const ck_conv_geom *g, const float *w, float *u);

/// y = conv(x, w) for images [n0, n1) by Winograd F(4x4, 3x3), u = ck_winograd4_weights(w); x, y
/// NHWC pointing at image 0; the epilogue as in ck_conv_forward. Returns 0, or -1 (nothing
/// written) when ck_winograd_supported(g) is 0. Values differ from the direct kernels by
/// rounding only (relative ~1e-6..1e-5), are the same on both vector paths, and do not depend on
/// how the images are split among calls.
int ck_conv_forward_winograd(const ck_conv_geom *g, const float *x, const float *u, float *y, int n0, int n1,
                             const ck_epilogue *epilogue);

/// dw ([3][3][cin][cout]) += the weight gradient of images [n0, n1) by Winograd F(4x4, 3x3):
/// G^T [sum over tiles (B^T d B) . (A dY A^T)] G (G as in ck_winograd4_weights, B and A the
/// forward kernel's), the adjoint of the forward transform, with the tiles summed in a fixed
/// order (image, then row-major). Returns 0, or -1 (dw untouched)
/// when ck_winograd_supported(g) is 0. Values differ from ck_conv_backward_weight by rounding.
int ck_conv_backward_weight_winograd(const ck_conv_geom *g, const float *x, const float *dy, float *dw, int n0, int n1);

/// dx = conv^T(dy, w) for images [n0, n1) (dx overwritten).
void ck_conv_backward_input(const ck_conv_geom *g, const float *dy, const float *w, float *dx, int n0, int n1);

/// dw += sum over images [n0, n1) of the weight gradient (dw is [kh, kw, cin, cout]).
void ck_conv_backward_weight(const ck_conv_geom *g, const float *x, const float *dy, float *dw, int n0, int n1);



// Element-wise kernels over [0, n) of the given pointers (callers offset them to split work).
void ck_relu_forward(const float *x, float *y, size_t n);
/// dx = x > 0 ? g : 0.
void ck_relu_backward(const float *x, const float *g, float *dx, size_t n);
void ck_add(const float *a, const float *b, float *y, size_t n);
/// y += a.
void ck_accumulate(float *y, const float *a, size_t n);

// Batch norm over rows [r0, r1) of an [m, c] matrix; per-channel partial sums in double.
/// A batch norm's raw moments of rows [r0, r1) of x ([rows, c]): s1[j] = sum of x[r][j] and
/// s2[j] = sum of x[r][j]^2 (Double, rows in order; each square is exact in Double).
void ck_bn_moments(const float *x, size_t c, size_t r0, size_t r1, double *s1, double *s2);
void ck_bn_apply(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y);
// Batch norm followed by ReLU: forward in one pass, backward with the ReLU mask recomputed from x.
void ck_bn_apply_relu(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y);
/// relu((x * a + b) + s): batch norm, residual add and ReLU (the values of the three ops in turn).
void ck_bn_apply_add_relu(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b,
                          const float *s, float *y);
void ck_bn_relu_backward_sums(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                              const float *invstd, const float *a, const float *b, double *sdy, double *sdyx);
void ck_bn_relu_backward_input(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                               const float *invstd, const float *a, const float *b, const float *k1,
                               const float *k2, float *dx);
void ck_bn_backward_sums(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                         const float *invstd, double *sdy, double *sdyx);
/// ck_bn_backward_sums of the gradient masked by a ReLU's output y (g where y > 0, else 0), which
/// is also stored in masked (rows [r0, r1)): the residual block's closing ReLU, whose masked
/// gradient also goes to the skip path. The values of ck_relu_backward then ck_bn_backward_sums.
void ck_bn_masked_backward_sums(const float *x, const float *g, const float *y, size_t c, size_t r0, size_t r1,
                                const float *mean, const float *invstd, float *masked, double *sdy, double *sdyx);
void ck_bn_backward_input(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                          const float *invstd, const float *a, const float *k1, const float *k2, float *dx);

/// Swish: y = x * sigmoid(x); dx = g * (s + x * s * (1 - s)) with s = sigmoid(x).
void ck_swish_forward(const float *x, float *y, size_t n);
void ck_swish_backward(const float *x, const float *g, float *dx, size_t n);

#endif
