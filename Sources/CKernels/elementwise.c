// Element-wise and per-channel kernels (ReLU, residual add, batch norm), over a range of the
// data so the caller can split the work over threads. Each has an AVX-512 build and an AVX2 + FMA
// one (the same C, compiled for each by inlining into a target function) and a portable one.
#include "CKernels.h"
#include <malloc.h>

// Large tensors come and go every step; keep freed memory in the heap instead of returning it
// to the kernel (mmap/munmap per tensor costs page faults and page zeroing on every op).
__attribute__((constructor)) static void ck_tune_allocator(void) {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  // glibc's maximum on 64-bit
    mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
}

// No reassociation in this file: every element's expression is evaluated as written, so a fused
// kernel and the composition of the separate ones give the same bits on every kernel path. The
// target is built without -ffast-math (Package.swift); the pragma keeps this file so under any
// flags (with -ffast-math the portable build once regrouped the batch-norm backward sums
// differently in the fused and the separate kernels). No loop here reduces along its vectorised
// dimension, so this costs no vectorisation.
#pragma clang fp reassociate(off)

#define INL static inline __attribute__((always_inline))
// Per-channel loops run over c = 16-128 channels a row: short enough that the vectoriser's own
// cost model left them scalar (one float at a time, measured: vmovss/vfmadd213ss). Forcing a
// 16-wide vector body keeps the same expression per element (the same values: reassociation
// is off, and each j is independent), so only the speed changes. The body is shared by every
// path: on AVX2 a 16-wide step is two ymm operations (two independent chains, which also hides
// the FMA latency), on the portable path four xmm ones. Element j of a row is only ever read
// and written at index j: safe in place too.
#define VEC_CHANNELS _Pragma("clang loop vectorize(assume_safety) vectorize_width(16) interleave_count(1)")
#if defined(__x86_64__)
#define AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#define AVX2 __attribute__((target("avx2,fma")))
#define DISPATCH(name, args)                          \
    switch (ck_isa()) {                               \
    case CK_ISA_AVX512: name##_avx512 args; break;    \
    case CK_ISA_AVX2: name##_avx2 args; break;        \
    default: name##_portable args; break;             \
    }
#define VARIANTS(name, params, args)                              \
    AVX512 static void name##_avx512 params { name##_body args; } \
    AVX2 static void name##_avx2 params { name##_body args; }     \
    static void name##_portable params { name##_body args; }
#else
#define DISPATCH(name, args) name##_portable args;
#define VARIANTS(name, params, args) static void name##_portable params { name##_body args; }
#endif

// MARK: ReLU and add

INL void relu_fwd_body(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0;
}
VARIANTS(relu_fwd, (const float *x, float *y, size_t n), (x, y, n))
void ck_relu_forward(const float *x, float *y, size_t n) { DISPATCH(relu_fwd, (x, y, n)) }

INL void relu_bwd_body(const float *x, const float *g, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : 0;
}
VARIANTS(relu_bwd, (const float *x, const float *g, float *dx, size_t n), (x, g, dx, n))
void ck_relu_backward(const float *x, const float *g, float *dx, size_t n) { DISPATCH(relu_bwd, (x, g, dx, n)) }

INL void add_body(const float *a, const float *b, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}
VARIANTS(add, (const float *a, const float *b, float *y, size_t n), (a, b, y, n))
void ck_add(const float *a, const float *b, float *y, size_t n) { DISPATCH(add, (a, b, y, n)) }

INL void accumulate_body(float *y, const float *a, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += a[i];
}
VARIANTS(accumulate, (float *y, const float *a, size_t n), (y, a, n))
void ck_accumulate(float *y, const float *a, size_t n) { DISPATCH(accumulate, (y, a, n)) }

// MARK: Batch norm over rows [r0, r1) of an [m, c] matrix

// Two per-channel sums over rows [r0, r1) (Double; out1 and out2 are zeroed first). TERMS sets
// t1 and t2, the terms of row r and channel j (it may also store per element). Each sum adds its
// rows in order, as a plain loop would; but a block of 16 channels keeps its sums in registers
// over a chunk of rows, where summing into out1[j] row after row waits for the previous row's
// store each time (a latency chain, measured as the slowest of the batch-norm passes). The
// channels past the last full block (c not a multiple of 16) run one at a time.
#define ROW_CHUNK 64
#define CHANNEL_SUMS(c, r0, r1, out1, out2, TERMS)                                                   \
    do {                                                                                             \
        const size_t full_ = (c) / 16 * 16;                                                          \
        for (size_t j = 0; j < (c); j++) { (out1)[j] = 0; (out2)[j] = 0; }                           \
        for (size_t rc_ = (r0); rc_ < (r1); rc_ += ROW_CHUNK) {                                      \
            const size_t re_ = (r1) - rc_ < ROW_CHUNK ? (r1) : rc_ + ROW_CHUNK;                      \
            for (size_t j0_ = 0; j0_ < full_; j0_ += 16) {                                           \
                double a1_[16], a2_[16];                                                             \
                for (size_t k = 0; k < 16; k++) { a1_[k] = (out1)[j0_ + k]; a2_[k] = (out2)[j0_ + k]; } \
                for (size_t r = rc_; r < re_; r++) {                                                 \
                    VEC_CHANNELS                                                                     \
                    for (size_t k = 0; k < 16; k++) {                                                \
                        const size_t j = j0_ + k;                                                    \
                        double t1, t2;                                                               \
                        TERMS                                                                        \
                        a1_[k] += t1;                                                                \
                        a2_[k] += t2;                                                                \
                    }                                                                                \
                }                                                                                    \
                for (size_t k = 0; k < 16; k++) { (out1)[j0_ + k] = a1_[k]; (out2)[j0_ + k] = a2_[k]; } \
            }                                                                                        \
            for (size_t r = rc_; r < re_; r++) {                                                     \
                for (size_t j = full_; j < (c); j++) {                                               \
                    double t1, t2;                                                                   \
                    TERMS                                                                            \
                    (out1)[j] += t1;                                                                 \
                    (out2)[j] += t2;                                                                 \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    } while (0)

// s1[j] = sum_r x[r][j], s2[j] = sum_r x[r][j]^2 (double): the mean and variance in one pass.
// A float's square is exact in double (48 significant bits), so an FMA or a multiply and an add
// give the same sums on every path.
INL void bn_moments_body(const float *x, size_t c, size_t r0, size_t r1, double *s1, double *s2) {
    CHANNEL_SUMS(c, r0, r1, s1, s2, {
        const double v = (double)x[r * c + j];
        t1 = v;
        t2 = v * v;
    });
}
VARIANTS(bn_moments, (const float *x, size_t c, size_t r0, size_t r1, double *s1, double *s2), (x, c, r0, r1, s1, s2))
void ck_bn_moments(const float *x, size_t c, size_t r0, size_t r1, double *s1, double *s2) {
    DISPATCH(bn_moments, (x, c, r0, r1, s1, s2))
}

// y[r][j] = x[r][j] * a[j] + b[j] (optionally followed by ReLU).
INL void bn_apply_body(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y) {
    for (size_t r = r0; r < r1; r++) {
        const float *row = x + r * c;
        float *o = y + r * c;
        VEC_CHANNELS
        for (size_t j = 0; j < c; j++) o[j] = row[j] * a[j] + b[j];
    }
}
VARIANTS(bn_apply, (const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y),
         (x, c, r0, r1, a, b, y))

// The same followed by ReLU, in one pass (the expression is bn_apply's, so the values are the
// same as bn_apply then relu_fwd).
INL void bn_apply_relu_body(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y) {
    for (size_t r = r0; r < r1; r++) {
        const float *row = x + r * c;
        float *o = y + r * c;
        VEC_CHANNELS
        for (size_t j = 0; j < c; j++) {
            float t = row[j] * a[j] + b[j];
            o[j] = t > 0 ? t : 0;
        }
    }
}
VARIANTS(bn_apply_relu, (const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y),
         (x, c, r0, r1, a, b, y))
void ck_bn_apply_relu(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y) {
    DISPATCH(bn_apply_relu, (x, c, r0, r1, a, b, y))
}
void ck_bn_apply(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b, float *y) {
    DISPATCH(bn_apply, (x, c, r0, r1, a, b, y))
}

// Batch norm, residual add and ReLU in one pass: y = relu((x * a + b) + s), the closing half of a
// post-activation residual block. Reassociation is off so (x * a + b) + s is not rewritten as
// x * a + (b + s): the values are bn_apply, add and relu_fwd's bit for bit.
INL void bn_apply_add_relu_body(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b,
                                const float *s, float *y) {
#pragma clang fp reassociate(off)
    for (size_t r = r0; r < r1; r++) {
        const float *row = x + r * c, *sr = s + r * c;
        float *o = y + r * c;
        VEC_CHANNELS
        for (size_t j = 0; j < c; j++) {
            float t = row[j] * a[j] + b[j];
            float u = t + sr[j];
            o[j] = u > 0 ? u : 0;
        }
    }
}
VARIANTS(bn_apply_add_relu, (const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b,
                             const float *s, float *y), (x, c, r0, r1, a, b, s, y))
void ck_bn_apply_add_relu(const float *x, size_t c, size_t r0, size_t r1, const float *a, const float *b,
                          const float *s, float *y) {
    DISPATCH(bn_apply_add_relu, (x, c, r0, r1, a, b, s, y))
}

// A convolution's epilogue over rows [r0, r1) of y, in place: the same kernels (so the same
// values) as running the ops one after another, while the rows are still in cache.
static void epilogue_apply(const ck_epilogue *e, float *y, size_t c, size_t r0, size_t r1) {
    const float *s = e->skip ? e->skip + r0 * c : NULL;
    float *rows = y + r0 * c;
    const size_t n = (r1 - r0) * c;
    if (e->a && s && e->relu) { ck_bn_apply_add_relu(y, c, r0, r1, e->a, e->b, e->skip, y); return; }
    if (e->a) {
        if (e->relu && !s) { ck_bn_apply_relu(y, c, r0, r1, e->a, e->b, y); return; }
        ck_bn_apply(y, c, r0, r1, e->a, e->b, y);
    }
    if (s) ck_add(rows, s, rows, n);
    if (e->relu) ck_relu_forward(rows, rows, n);
}

void ck_epilogue_rows(const ck_epilogue *e, float *y, size_t c, size_t r0, size_t r1) {
    epilogue_apply(e, y, c, r0, r1);
    if (!e->moments || e->image_rows == 0) return;
    for (size_t r = r0; r < r1; r += e->image_rows) {
        const size_t end = r1 - r < e->image_rows ? r1 : r + e->image_rows;
        double *m = e->moments + 2 * c * (r / e->image_rows);
        ck_bn_moments(y, c, r, end, m, m + c);
    }
}

// sdy[j] = sum_r g[r][j], sdyx[j] = sum_r g[r][j] * (x[r][j] - mean[j]) * invstd[j] (double).
INL void bn_bwd_sums_body(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                          const float *invstd, double *sdy, double *sdyx) {
    CHANNEL_SUMS(c, r0, r1, sdy, sdyx, {
        const float gj = g[r * c + j];
        t1 = (double)gj;
        t2 = (double)(gj * ((x[r * c + j] - mean[j]) * invstd[j]));
    });
}
VARIANTS(bn_bwd_sums, (const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                       const float *invstd, double *sdy, double *sdyx), (x, g, c, r0, r1, mean, invstd, sdy, sdyx))
void ck_bn_backward_sums(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                         const float *invstd, double *sdy, double *sdyx) {
    DISPATCH(bn_bwd_sums, (x, g, c, r0, r1, mean, invstd, sdy, sdyx))
}

// bn_bwd_sums of g masked by the ReLU output y, the masked gradient stored on the way (relu_bwd's
// expression, then bn_bwd_sums' own: the same values as the two kernels in turn, one pass fewer).
INL void bn_masked_bwd_sums_body(const float *x, const float *g, const float *y, size_t c, size_t r0, size_t r1,
                                 const float *mean, const float *invstd, float *masked, double *sdy, double *sdyx) {
    CHANNEL_SUMS(c, r0, r1, sdy, sdyx, {
        const float gj = y[r * c + j] > 0 ? g[r * c + j] : 0;
        masked[r * c + j] = gj;
        t1 = (double)gj;
        t2 = (double)(gj * ((x[r * c + j] - mean[j]) * invstd[j]));
    });
}
VARIANTS(bn_masked_bwd_sums, (const float *x, const float *g, const float *y, size_t c, size_t r0, size_t r1,
                              const float *mean, const float *invstd, float *masked, double *sdy, double *sdyx),
         (x, g, y, c, r0, r1, mean, invstd, masked, sdy, sdyx))
void ck_bn_masked_backward_sums(const float *x, const float *g, const float *y, size_t c, size_t r0, size_t r1,
                                const float *mean, const float *invstd, float *masked, double *sdy, double *sdyx) {
    DISPATCH(bn_masked_bwd_sums, (x, g, y, c, r0, r1, mean, invstd, masked, sdy, sdyx))
}

// bn_bwd_sums after a ReLU: g counts only where the forward output x * a + b was positive
// (recomputed from x with bn_apply's expression, so the mask is the forward's exactly).
INL void bn_relu_bwd_sums_body(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                               const float *invstd, const float *a, const float *b, double *sdy, double *sdyx) {
    CHANNEL_SUMS(c, r0, r1, sdy, sdyx, {
        const float xj = x[r * c + j];
        const float t = xj * a[j] + b[j];
        const float gj = t > 0 ? g[r * c + j] : 0;
        t1 = (double)gj;
        t2 = (double)(gj * ((xj - mean[j]) * invstd[j]));
    });
}
VARIANTS(bn_relu_bwd_sums, (const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                            const float *invstd, const float *a, const float *b, double *sdy, double *sdyx),
         (x, g, c, r0, r1, mean, invstd, a, b, sdy, sdyx))
void ck_bn_relu_backward_sums(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                              const float *invstd, const float *a, const float *b, double *sdy, double *sdyx) {
    DISPATCH(bn_relu_bwd_sums, (x, g, c, r0, r1, mean, invstd, a, b, sdy, sdyx))
}

// bn_bwd_dx after a ReLU (k1 = k2 = 0: inference mode, dx = a * masked g).
INL void bn_relu_bwd_dx_body(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                             const float *invstd, const float *a, const float *b, const float *k1, const float *k2,
                             float *dx) {
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * c, *gr = g + r * c;
        float *o = dx + r * c;
        VEC_CHANNELS
        for (size_t j = 0; j < c; j++) {
            float t = xr[j] * a[j] + b[j];
            float gj = t > 0 ? gr[j] : 0;
            float xhat = (xr[j] - mean[j]) * invstd[j];
            o[j] = a[j] * (gj - k1[j] - xhat * k2[j]);
        }
    }
}
VARIANTS(bn_relu_bwd_dx, (const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                          const float *invstd, const float *a, const float *b, const float *k1, const float *k2,
                          float *dx), (x, g, c, r0, r1, mean, invstd, a, b, k1, k2, dx))
void ck_bn_relu_backward_input(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                               const float *invstd, const float *a, const float *b, const float *k1,
                               const float *k2, float *dx) {
    DISPATCH(bn_relu_bwd_dx, (x, g, c, r0, r1, mean, invstd, a, b, k1, k2, dx))
}

// dx[r][j] = a[j] * (g[r][j] - k1[j] - (x[r][j] - mean[j]) * invstd[j] * k2[j]).
INL void bn_bwd_dx_body(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                        const float *invstd, const float *a, const float *k1, const float *k2, float *dx) {
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * c, *gr = g + r * c;
        float *o = dx + r * c;
        VEC_CHANNELS
        for (size_t j = 0; j < c; j++) {
            float xhat = (xr[j] - mean[j]) * invstd[j];
            o[j] = a[j] * (gr[j] - k1[j] - xhat * k2[j]);
        }
    }
}
VARIANTS(bn_bwd_dx, (const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                     const float *invstd, const float *a, const float *k1, const float *k2, float *dx),
         (x, g, c, r0, r1, mean, invstd, a, k1, k2, dx))
void ck_bn_backward_input(const float *x, const float *g, size_t c, size_t r0, size_t r1, const float *mean,
                          const float *invstd, const float *a, const float *k1, const float *k2, float *dx) {
    DISPATCH(bn_bwd_dx, (x, g, c, r0, r1, mean, invstd, a, k1, k2, dx))
}

// MARK: Swish (x * sigmoid(x)) with a vectorisable exp

#include <stdint.h>
#include <string.h>

// exp(x) for float: range reduction x = n ln2 + r and Cephes' degree-6 polynomial for exp(r);
// about 1 ulp over the clamped range. Plain arithmetic so the loops around it vectorise.
INL float ck_expf(float x) {
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    float n = __builtin_rintf(x * 1.44269504088896341f);
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float e = p * r * r + r + 1.0f;
    int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return e * scale;
}

INL void swish_fwd_body(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + ck_expf(-x[i]));
}
VARIANTS(swish_fwd, (const float *x, float *y, size_t n), (x, y, n))
void ck_swish_forward(const float *x, float *y, size_t n) { DISPATCH(swish_fwd, (x, y, n)) }

INL void swish_bwd_body(const float *x, const float *g, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + ck_expf(-x[i]));
        dx[i] = g[i] * (s + x[i] * s * (1.0f - s));
    }
}
VARIANTS(swish_bwd, (const float *x, const float *g, float *dx, size_t n), (x, g, dx, n))
void ck_swish_backward(const float *x, const float *g, float *dx, size_t n) { DISPATCH(swish_bwd, (x, g, dx, n)) }
