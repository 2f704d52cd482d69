// What kernels.c (dispatch, portable kernels) and the per-width kernel files (conv_avx512.c,
// conv_avx2.c: conv_tiles.h compiled once per vector width) share: the argument structs, the
// small helpers and the table of one width's entry points. One translation unit per width lets
// the compiler build the widths side by side (the unrolled register tiles dominate the build).
#ifndef CK_CONV_INTERNAL_H
#define CK_CONV_INTERNAL_H
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CK_X86 1
#endif

static inline float *scratch(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes > 0 ? bytes : 64);
    if (!p) abort();
    return p;
}


// Like a zero-padded copy of src (sh x sw x c) into buf, but row-planar: [hp][c][wp] (each
// row's channels are planes), so a run of output pixels reads consecutive floats of one channel.
// Image pixel (y, x) lands at (top + y, left + x). Positions depend only on the shapes, so the
// zeros around them are written once per buffer (clear).
static inline void place_planar(const float *src, int sh, int sw, int c, float *buf, int hp, int wp,
                         int top, int left, int clear) {
    if (clear) memset(buf, 0, (size_t)hp * wp * c * sizeof(float));
    for (int y = 0; y < sh; y++) {
        int by = top + y;
        if (by < 0 || by >= hp) continue;
        float *row = buf + (size_t)by * c * wp;
        for (int x = 0; x < sw; x++) {
            int bx = left + x;
            if (bx < 0 || bx >= wp) continue;
            const float *s = src + ((size_t)y * sw + x) * c;
            for (int ci = 0; ci < c; ci++) row[(size_t)ci * wp + bx] = s[ci];
        }
    }
}

// One image of a convolution: y[oy][ox][co] = sum_{ky,kx,ci} x[oy*sy - pt + ky][ox*sx - pl + kx][ci]
// * w[ky][kx][ci][co], taps outside x counting as zeros. x is NHWC (ih x iw x cin); output pixel
// (oy, ox) is written at y + oy*yrow + ox*ystep.
typedef struct {
    const float *x; int ih, iw, cin, pt, pl;
    const float *w; int cout, kh, kw, sy, sx;
    float *y; int oh, ow; size_t ystep, yrow;
    int isa;               // ck_conv_geom.isa: -1 for the process's path
    const float *wpacked;  // w packed for the column-sharing tiles (conv1_pack), or NULL
} conv1;

// Rows of the planar copy a conv1 needs (and columns): enough for every tap of every output.
static inline int planar_h(const conv1 *a) { return (a->oh - 1) * a->sy + a->kh; }
static inline int planar_w(const conv1 *a) { return (a->ow - 1) * a->sx + a->kw; }

// Valid range [lo, hi) of output positions o (0 <= o < n) with 0 <= o*s - p + k < size.
static inline void valid_range(int n, int s, int p, int k, int size, int *lo, int *hi) {
    int t = p - k;
    int l = t > 0 ? (t + s - 1) / s : 0;
    int t2 = size - 1 + p - k;
    int h = t2 >= 0 ? t2 / s + 1 : 0;
    if (h > n) h = n;
    if (l > h) l = h;
    *lo = l; *hi = h;
}

#define INL static inline __attribute__((always_inline))

// A tile of PB output pixels (consecutive ox) x NV channel vectors (the last one masked), over
// nky x nkx taps. Pixel p of input channel ci of tap (ky, kx) is at src[ky*rowstride +
// kx*kxstep + ci*cstep + p*PSTEP], PSTEP a compile-time constant, so every broadcast is one base
// pointer plus a constant displacement: the inner loop is loads and FMAs only. Two layouts use
// it: NHWC (kxstep = cin, cstep = 1, PSTEP = sx*cin for the common channel counts) and row-planar
// ([row][ci][x]: kxstep = 1, cstep = wp, PSTEP = sx) for everything else.
typedef struct {
    int rowstride, kxstep, cstep, cin, cout, nky, nkx;
    size_t wky, wkx, ystep;
    size_t wci;  // weight step from one input channel to the next (cout, or the packed layout's)
} tile_args;

// The largest tile width <= cap that divides n, unless that is much smaller than cap.
static inline int pick_block(int n, int cap) {
    if (n <= cap) return n;
    for (int b = cap; b >= (cap + 1) / 2; b--)
        if (n % b == 0) return b;
    return cap;
}

static inline void zero_pixel(float *out, int cout) { memset(out, 0, (size_t)cout * sizeof(float)); }

// One call of the Winograd kernels: images [n0, n1) of a 3x3 stride-1 convolution, x NHWC
// (ih x iw x cin per image), u the transformed weights (ck_winograd4_weights), y NHWC
// (oh x ow x cout), both pointing at image 0; the epilogue (or NULL) applies per group of images as it is stored.
typedef struct {
    const float *x; int ih, iw, cin, pt, pl;
    const float *u; int cout;
    float *y; int oh, ow;
    int n0, n1;
    const ck_epilogue *epilogue;
    const float *dy;  // the output gradient (oh x ow x cout per image), for the weight gradient
} wino_args;

// The input pixel a Winograd tile reads for a padding tap: a zero row as wide as the widest cin
// the kernels take (128), so the input transform loads every tap unconditionally.
static const float wino_zeros[128] __attribute__((aligned(64), unused));

// Tiles per Winograd F(4x4, 3x3) block: the block's V and M (or Z) ([36][tiles][cin] and
// [36][tiles][cout]) take about 256 KiB, to stay in L2 between the input transform, the GEMMs and
// the output transform; rounded up to a multiple of 12 (at least 12) so the forward GEMM runs its
// widest register tile throughout (3, 4, 6 and 12 divide it).
static inline int wino4_block_tiles(int cin, int cout) {
    const int tiles = (256 * 1024) / (36 * (int)sizeof(float) * (cin + cout));
    return tiles < 12 ? 12 : (tiles + 11) / 12 * 12;
}

// Floats from one element's plane of a Winograd block (tiles x channels) to the next: one cache
// line more than the plane, so the 36 planes that a tile's transform reads or writes together
// do not all fall into the same L1 set (F(2x2)'s 16 planes of 8 KiB did: 16 streams for 12
// ways, and loads 4 KiB-aliased with stores).
static inline size_t wino_plane(size_t tiles, int channels) { return tiles * (size_t)channels + 16; }

// One vector width's kernels (conv_tiles.h): the forward paths on NHWC, NHWC padded and
// row-planar inputs, the weight gradient, whether a column-sharing tile exists for (cin, kw),
// the channel block its packed weights use, the Winograd F(4x4, 3x3) convolutions (forward,
// weight gradient) and the output-channel block of the forward's packed weights.
typedef struct {
    void (*nhwc)(const conv1 *a);
    void (*nhwc_padded)(const conv1 *a, float *buf, int clear);
    void (*planar)(const conv1 *a, float *buf, int clear);
    void (*wgrad)(const conv1 *a, const float *dy, float *dw);
    int (*has_shared_tile)(int cin, int kw);
    int pack_block;
    void (*winograd)(const wino_args *a);
    void (*winograd_wgrad)(const wino_args *a, float *du);
    int wino_block;
} simd_kernels;

// A register tile was asked for a width the switch does not instantiate: only the widths the
// blocking rules can pick (conv_tiles.h's caps) are compiled, so this is a kernel bug, never input.
__attribute__((noinline, cold, noreturn, unused)) static void ck_tile_unreachable(const char *kind, int pb, int nv) {
    fprintf(stderr, "CKernels: no %s register tile of %d x %d (a kernel bug)\n", kind, pb, nv);
    abort();
}

#if CK_X86
// Each width's table (conv_tiles.h), defined in its own file.
extern const simd_kernels ck_simd_avx512 __attribute__((visibility("hidden")));
extern const simd_kernels ck_simd_avx2 __attribute__((visibility("hidden")));
#endif
#endif
