// Direct convolution kernels for NHWC activations and HWIO weights.
//
// Small channel counts (16-64, the CIFAR ResNets) make im2col + sgemm inefficient: the GEMMs are
// thin (N = cout = 16..64, K = 9 * cin) and im2col/col2im move 9x the activations through memory.
// These kernels compute the convolution directly, one image at a time, vectorised over output
// channels: 16 floats = one zmm register; a tile of PB output pixels x NV channel vectors
// accumulates in registers. Zero padding is a padded copy of one image at a time (NHWC for the
// specialised channel counts, row-planar for the others), so whole rows run as register tiles.
//
// Every function has an AVX-512 version (selected at run time with __builtin_cpu_supports) and a
// portable one, so the binary runs on any x86-64. The arithmetic order of each output element is
// fixed by the code (no threading inside): results are deterministic.
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CK_X86 1
#endif

int ck_version(void) { return 2; }

static int cpu_has_avx512(void) {
#if CK_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
        && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int ck_isa_supported(int isa) {
    switch (isa) {
    case CK_ISA_PORTABLE: return 1;
    case CK_ISA_AVX512: return cpu_has_avx512();
    default: return 0;  // no AVX2 kernels in this build
    }
}

const char *ck_isa_name(int isa) {
    switch (isa) {
    case CK_ISA_PORTABLE: return "portable";
    case CK_ISA_AVX2: return "avx2";
    case CK_ISA_AVX512: return "avx512";
    default: return NULL;
    }
}

int ck_isa_parse(const char *text, char *err, size_t errlen) {
    for (int isa = CK_ISA_PORTABLE; isa <= CK_ISA_AVX512; isa++) {
        if (strcmp(text, ck_isa_name(isa)) != 0) continue;
        if (ck_isa_supported(isa)) return isa;
        if (err) snprintf(err, errlen, "ENGINE_ISA=%s: this CPU or build cannot run the %s kernels", text, text);
        return -2;
    }
    if (err) snprintf(err, errlen, "ENGINE_ISA=%s: unknown kernel path (use avx512, avx2 or portable)", text);
    return -1;
}

// Written once, on first use, and only read afterwards; every thread computes the same value,
// so a racing first use stores the same number twice.
static _Atomic int g_isa = -1;

int ck_isa(void) {
    int isa = g_isa;
    if (isa >= 0) return isa;
    const char *forced = getenv("ENGINE_ISA");
    if (forced && *forced) {
        char err[160];
        isa = ck_isa_parse(forced, err, sizeof err);
        if (isa < 0) {
            fprintf(stderr, "error: %s\n", err);
            exit(2);
        }
    } else {
        isa = ck_isa_supported(CK_ISA_AVX512) ? CK_ISA_AVX512
            : ck_isa_supported(CK_ISA_AVX2) ? CK_ISA_AVX2 : CK_ISA_PORTABLE;
    }
    g_isa = isa;
    return isa;
}

int ck_uses_avx512(void) { return ck_isa() == CK_ISA_AVX512; }

static float *scratch(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes > 0 ? bytes : 64);
    if (!p) abort();
    return p;
}


// Like a zero-padded copy of src (sh x sw x c) into buf, but row-planar: [hp][c][wp] (each
// row's channels are planes), so a run of output pixels reads consecutive floats of one channel.
// Image pixel (y, x) lands at (top + y, left + x). Positions depend only on the shapes, so the
// zeros around them are written once per buffer (clear).
static void place_planar(const float *src, int sh, int sw, int c, float *buf, int hp, int wp,
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
    int portable;
    const float *wpacked;  // w packed for the column-sharing tiles (conv1_pack), or NULL
} conv1;

// Rows of the planar copy a conv1 needs (and columns): enough for every tap of every output.
static int planar_h(const conv1 *a) { return (a->oh - 1) * a->sy + a->kh; }
static int planar_w(const conv1 *a) { return (a->ow - 1) * a->sx + a->kw; }

// Valid range [lo, hi) of output positions o (0 <= o < n) with 0 <= o*s - p + k < size.
static void valid_range(int n, int s, int p, int k, int size, int *lo, int *hi) {
    int t = p - k;
    int l = t > 0 ? (t + s - 1) / s : 0;
    int t2 = size - 1 + p - k;
    int h = t2 >= 0 ? t2 / s + 1 : 0;
    if (h > n) h = n;
    if (l > h) l = h;
    *lo = l; *hi = h;
}

static void conv1_portable(const conv1 *a) {
    const int cin = a->cin, cout = a->cout;
    for (int oy = 0; oy < a->oh; oy++) {
        for (int ox = 0; ox < a->ow; ox++) {
            float *out = a->y + (size_t)oy * a->yrow + (size_t)ox * a->ystep;
            for (int co = 0; co < cout; co++) out[co] = 0;
            for (int ky = 0; ky < a->kh; ky++) {
                const int iy = oy * a->sy - a->pt + ky;
                if (iy < 0 || iy >= a->ih) continue;
                for (int kx = 0; kx < a->kw; kx++) {
                    const int ix = ox * a->sx - a->pl + kx;
                    if (ix < 0 || ix >= a->iw) continue;
                    const float *src = a->x + ((size_t)iy * a->iw + ix) * cin;
                    const float *wt = a->w + (size_t)(ky * a->kw + kx) * cin * cout;
                    for (int ci = 0; ci < cin; ci++) {
                        const float v = src[ci];
                        const float *wr = wt + (size_t)ci * cout;
                        for (int co = 0; co < cout; co++) out[co] += v * wr[co];
                    }
                }
            }
        }
    }
}

// dw[ky][kx][ci][co] += sum_{oy,ox} x[oy*sy-pt+ky][ox*sx-pl+kx][ci] * dy[oy][ox][co] for one image
// (dy contiguous: oh x ow x cout; a->y unused).
static void wgrad_portable(const conv1 *a, const float *dy, float *dw) {
    const int cin = a->cin, cout = a->cout;
    for (int ky = 0; ky < a->kh; ky++) {
        int oyl, oyh;
        valid_range(a->oh, a->sy, a->pt, ky, a->ih, &oyl, &oyh);
        for (int kx = 0; kx < a->kw; kx++) {
            int oxl, oxh;
            valid_range(a->ow, a->sx, a->pl, kx, a->iw, &oxl, &oxh);
            float *wt = dw + (size_t)(ky * a->kw + kx) * cin * cout;
            for (int oy = oyl; oy < oyh; oy++) {
                for (int ox = oxl; ox < oxh; ox++) {
                    const float *d = dy + ((size_t)oy * a->ow + ox) * cout;
                    const float *src = a->x + ((size_t)(oy * a->sy - a->pt + ky) * a->iw + ox * a->sx - a->pl + kx) * cin;
                    for (int ci = 0; ci < cin; ci++) {
                        const float v = src[ci];
                        float *wr = wt + (size_t)ci * cout;
                        for (int co = 0; co < cout; co++) wr[co] += v * d[co];
                    }
                }
            }
        }
    }
}

#if CK_X86
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))), apply_to = function)
#define INL static inline __attribute__((always_inline))

static inline __mmask16 tail_mask(int n) { return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1); }

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

INL void fwd_tile(const tile_args *t, const float *src, const float *w, float *out,
                  const int PB, const int NV, const int PSTEP, __mmask16 m) {
    __m512 acc[16][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[p][v] = _mm512_setzero_ps();
    const int cin = t->cin, cout = t->cout, cstep = t->cstep;
    for (int ky = 0; ky < t->nky; ky++) {
        for (int kx = 0; kx < t->nkx; kx++) {
            const float *s = src + (size_t)ky * t->rowstride + (size_t)kx * t->kxstep;
            const float *wt = w + ky * t->wky + kx * t->wkx;
            for (int ci = 0; ci < cin; ci++) {
                __m512 wv[4];
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    wv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(m, wt + 16 * v) : _mm512_loadu_ps(wt + 16 * v);
#pragma clang loop unroll(full)
                for (int p = 0; p < PB; p++) {
                    __m512 b = _mm512_set1_ps(s[p * PSTEP]);
#pragma clang loop unroll(full)
                    for (int v = 0; v < NV; v++) acc[p][v] = _mm512_fmadd_ps(b, wv[v], acc[p][v]);
                }
                s += cstep;
                wt += t->wci;
            }
        }
    }
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            float *o = out + p * t->ystep + 16 * v;
            if (v == NV - 1) _mm512_mask_storeu_ps(o, m, acc[p][v]);
            else _mm512_storeu_ps(o, acc[p][v]);
        }
}

#define FWD_CASE(P, V, S) case P: fwd_tile(t, src, w, out, P, V, S, m); break;
#define FWD_SWITCH(V, S)                                                                                         \
    switch (pb) {                                                                                                \
        FWD_CASE(1, V, S) FWD_CASE(2, V, S) FWD_CASE(3, V, S) FWD_CASE(4, V, S) FWD_CASE(5, V, S)                \
        FWD_CASE(6, V, S) FWD_CASE(7, V, S) FWD_CASE(8, V, S) FWD_CASE(9, V, S) FWD_CASE(10, V, S)               \
        FWD_CASE(11, V, S) FWD_CASE(12, V, S) FWD_CASE(13, V, S) FWD_CASE(14, V, S) FWD_CASE(15, V, S)           \
        FWD_CASE(16, V, S) default: break;                                                                       \
    }
#define FWD_TILE_FN(S)                                                                                           \
    static void fwd_tile_p##S(const tile_args *t, const float *src, const float *w, float *out, int pb, int nv,  \
                              __mmask16 m) {                                                                     \
        switch (nv) {                                                                                            \
        case 1: FWD_SWITCH(1, S) break;                                                                          \
        case 2: FWD_SWITCH(2, S) break;                                                                          \
        case 3: FWD_SWITCH(3, S) break;                                                                          \
        default: FWD_SWITCH(4, S) break;                                                                         \
        }                                                                                                        \
    }
FWD_TILE_FN(1)
FWD_TILE_FN(2)
FWD_TILE_FN(16)
FWD_TILE_FN(32)
FWD_TILE_FN(64)
FWD_TILE_FN(128)

typedef void (*fwd_tile_fn)(const tile_args *, const float *, const float *, float *, int, int, __mmask16);

static fwd_tile_fn tile_for_pstep(int pstep) {
    switch (pstep) {
    case 1: return fwd_tile_p1;
    case 2: return fwd_tile_p2;
    case 16: return fwd_tile_p16;
    case 32: return fwd_tile_p32;
    case 64: return fwd_tile_p64;
    case 128: return fwd_tile_p128;
    default: return NULL;
    }
}

// Stride-1 tile sharing each input broadcast across the KW kernel columns: input pixel q of the
// tile's row feeds output pixels q - kx for every kx, so one broadcast serves up to KW x NV FMAs
// (instead of NV), with the KW x NV weight vectors of (ky, ci) held in registers. NHWC only
// (PSTEP = cin), interior pixels only (all KW columns inside the image).
INL void fwd_tile_shared(const tile_args *t, const float *src, const float *w, float *out,
                         const int PB, const int NV, const int PSTEP, const int KW, __mmask16 m) {
    __m512 acc[16][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[p][v] = _mm512_setzero_ps();
    const int cin = t->cin, cout = t->cout;
    for (int ky = 0; ky < t->nky; ky++) {
        const float *s = src + (size_t)ky * t->rowstride;
        const float *wt = w + ky * t->wky;
        for (int ci = 0; ci < cin; ci++) {
            __m512 wv[3][4];
#pragma clang loop unroll(full)
            for (int kx = 0; kx < KW; kx++)
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    wv[kx][v] = v == NV - 1 ? _mm512_maskz_loadu_ps(m, wt + kx * t->wkx + 16 * v)
                                            : _mm512_loadu_ps(wt + kx * t->wkx + 16 * v);
#pragma clang loop unroll(full)
            for (int q = 0; q < PB + KW - 1; q++) {
                __m512 b = _mm512_set1_ps(s[q * PSTEP]);
#pragma clang loop unroll(full)
                for (int kx = 0; kx < KW; kx++) {
                    const int p = q - kx;
                    if (p < 0 || p >= PB) continue;
#pragma clang loop unroll(full)
                    for (int v = 0; v < NV; v++) acc[p][v] = _mm512_fmadd_ps(b, wv[kx][v], acc[p][v]);
                }
            }
            s += 1;
            wt += t->wci;
        }
    }
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            float *o = out + p * t->ystep + 16 * v;
            if (v == NV - 1) _mm512_mask_storeu_ps(o, m, acc[p][v]);
            else _mm512_storeu_ps(o, acc[p][v]);
        }
}

#define SH(P, V, S, K) case P: fwd_tile_shared(t, src, w, out, P, V, S, K, m); break;
#define SH_NV1(S, K) switch (pb) { SH(1,1,S,K) SH(2,1,S,K) SH(3,1,S,K) SH(4,1,S,K) SH(5,1,S,K) SH(6,1,S,K) SH(7,1,S,K) \
    SH(8,1,S,K) SH(9,1,S,K) SH(10,1,S,K) SH(11,1,S,K) SH(12,1,S,K) SH(13,1,S,K) SH(14,1,S,K) SH(15,1,S,K) SH(16,1,S,K) default: break; }
#define SH_NV2(S, K) switch (pb) { SH(1,2,S,K) SH(2,2,S,K) SH(3,2,S,K) SH(4,2,S,K) SH(5,2,S,K) SH(6,2,S,K) SH(7,2,S,K) \
    SH(8,2,S,K) SH(9,2,S,K) SH(10,2,S,K) default: break; }
#define SH_NV3(S, K) switch (pb) { SH(1,3,S,K) SH(2,3,S,K) SH(3,3,S,K) SH(4,3,S,K) SH(5,3,S,K) SH(6,3,S,K) default: break; }
#define SH_NV4(S, K) switch (pb) { SH(1,4,S,K) SH(2,4,S,K) SH(3,4,S,K) SH(4,4,S,K) default: break; }
#define SHARED_FN(S, K)                                                                                           \
    static void fwd_shared_p##S##_k##K(const tile_args *t, const float *src, const float *w, float *out, int pb,  \
                                       int nv, __mmask16 m) {                                                     \
        switch (nv) {                                                                                             \
        case 1: SH_NV1(S, K) break;                                                                               \
        case 2: SH_NV2(S, K) break;                                                                               \
        case 3: SH_NV3(S, K) break;                                                                               \
        default: SH_NV4(S, K) break;                                                                              \
        }                                                                                                         \
    }
SHARED_FN(16, 2) SHARED_FN(32, 2) SHARED_FN(64, 2) SHARED_FN(128, 2)
SHARED_FN(16, 3) SHARED_FN(32, 3) SHARED_FN(64, 3) SHARED_FN(128, 3)

static const int max_pb_shared[5] = {0, 16, 10, 6, 4};

static fwd_tile_fn shared_tile_for(int cin, int kw) {
    if (kw == 2) switch (cin) {
        case 16: return fwd_shared_p16_k2; case 32: return fwd_shared_p32_k2;
        case 64: return fwd_shared_p64_k2; case 128: return fwd_shared_p128_k2; default: return NULL; }
    if (kw == 3) switch (cin) {
        case 16: return fwd_shared_p16_k3; case 32: return fwd_shared_p32_k3;
        case 64: return fwd_shared_p64_k3; case 128: return fwd_shared_p128_k3; default: return NULL; }
    return NULL;
}

static const int max_pb_for_nv[5] = {0, 16, 12, 8, 6};

// The largest tile width <= cap that divides n, unless that is much smaller than cap.
static int pick_block(int n, int cap) {
    if (n <= cap) return n;
    for (int b = cap; b >= (cap + 1) / 2; b--)
        if (n % b == 0) return b;
    return cap;
}

// One output pixel (a border pixel with a partial set of taps): a tile of width 1 would be one
// FMA dependency chain per vector; four partial sums over ci mod 4 keep the FMA units busy.
INL void border_pixel_nv(const tile_args *t, const float *src, const float *w, float *out, const int nv, __mmask16 m) {
    __m512 acc[4][4];
#pragma clang loop unroll(full)
    for (int u = 0; u < 4; u++)
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) acc[u][v] = _mm512_setzero_ps();
    const int cin = t->cin, cout = t->cout;
    for (int ky = 0; ky < t->nky; ky++) {
        for (int kx = 0; kx < t->nkx; kx++) {
            const float *s = src + (size_t)ky * t->rowstride + (size_t)kx * t->kxstep;
            const float *wt = w + ky * t->wky + kx * t->wkx;
            int ci = 0;
            for (; ci + 4 <= cin; ci += 4) {
#pragma clang loop unroll(full)
                for (int u = 0; u < 4; u++) {
                    __m512 b = _mm512_set1_ps(s[(size_t)(ci + u) * t->cstep]);
                    const float *wr = wt + (size_t)(ci + u) * t->wci;
#pragma clang loop unroll(full)
                    for (int v = 0; v < nv; v++) {
                        __m512 wv = v == nv - 1 ? _mm512_maskz_loadu_ps(m, wr + 16 * v) : _mm512_loadu_ps(wr + 16 * v);
                        acc[u][v] = _mm512_fmadd_ps(b, wv, acc[u][v]);
                    }
                }
            }
            for (; ci < cin; ci++) {
                __m512 b = _mm512_set1_ps(s[(size_t)ci * t->cstep]);
                const float *wr = wt + (size_t)ci * t->wci;
#pragma clang loop unroll(full)
                for (int v = 0; v < nv; v++) {
                    __m512 wv = v == nv - 1 ? _mm512_maskz_loadu_ps(m, wr + 16 * v) : _mm512_loadu_ps(wr + 16 * v);
                    acc[0][v] = _mm512_fmadd_ps(b, wv, acc[0][v]);
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int v = 0; v < nv; v++) {
        __m512 r = _mm512_add_ps(_mm512_add_ps(acc[0][v], acc[1][v]), _mm512_add_ps(acc[2][v], acc[3][v]));
        if (v == nv - 1) _mm512_mask_storeu_ps(out + 16 * v, m, r);
        else _mm512_storeu_ps(out + 16 * v, r);
    }
}

static void border_pixel(const tile_args *t, const float *src, const float *w, float *out, int nv, __mmask16 m) {
    switch (nv) {
    case 1: border_pixel_nv(t, src, w, out, 1, m); break;
    case 2: border_pixel_nv(t, src, w, out, 2, m); break;
    case 3: border_pixel_nv(t, src, w, out, 3, m); break;
    default: border_pixel_nv(t, src, w, out, 4, m); break;
    }
}

static void zero_pixel(float *out, int cout) { memset(out, 0, (size_t)cout * sizeof(float)); }

// NHWC straight from the image (a->sx * a->cin must have a specialised tile).
static void conv1_nhwc(const conv1 *a) {
    const int cin = a->cin, cout = a->cout, iw = a->iw, sx = a->sx;
    const fwd_tile_fn shared_fn = sx == 1 ? shared_tile_for(cin, a->kw) : NULL;
    int oxl, oxh;  // output columns whose taps all fall inside the image
    {
        int t = a->pl;
        oxl = t > 0 ? (t + sx - 1) / sx : 0;
        int t2 = iw + a->pl - a->kw;
        oxh = t2 >= 0 ? t2 / sx + 1 : 0;
        if (oxh > a->ow) oxh = a->ow;
        if (oxl > a->ow) oxl = a->ow;
        if (oxh < oxl) oxh = oxl;
    }
    // Column sharing pays off while the KW x NV weight vectors leave room for a wide tile: with
    // it, output channels go in blocks of 32 (NV = 2, tiles up to 10 pixels wide, each weight
    // vector loaded once per 8-10 FMAs). Blocks of 64 (NV = 4) allow only 4-6 pixels, so every
    // weight vector, streamed from L2 for the deep layers, fed 4-6 FMAs.
    const int coblock = shared_fn ? 32 : 64;
    for (int co0 = 0; co0 < cout; co0 += coblock) {
        const int cn = cout - co0 < coblock ? cout - co0 : coblock;
        const int nv = (cn + 15) / 16;
        const __mmask16 m = tail_mask(cn - 16 * (nv - 1));
        const fwd_tile_fn shared = nv <= 2 ? shared_fn : NULL;
        const fwd_tile_fn tile = shared ? shared : tile_for_pstep(sx * cin);
        const int blk = pick_block(oxh - oxl, shared ? max_pb_shared[nv] : max_pb_for_nv[nv]);
        // Weights: HWIO as given, or packed per 32-channel block for the column-sharing tiles.
        const float *wblock = a->w + co0;
        tile_args t = {iw * cin, cin, 1, cin, cout, 0, 0, (size_t)a->kw * cin * cout, (size_t)cin * cout, a->ystep,
                       (size_t)cout};
        if (shared && a->wpacked) {
            wblock = a->wpacked + (size_t)(co0 / 32) * a->kh * cin * a->kw * 32;
            t.wky = (size_t)cin * a->kw * 32; t.wkx = 32; t.wci = (size_t)a->kw * 32;
        }
        for (int oy = 0; oy < a->oh; oy++) {
            const int iy0 = oy * a->sy - a->pt;
            const int kyl = iy0 < 0 ? -iy0 : 0;
            const int kyh = a->ih - iy0 < a->kh ? a->ih - iy0 : a->kh;
            float *orow = a->y + (size_t)oy * a->yrow + co0;
            if (kyl >= kyh) {
                for (int ox = 0; ox < a->ow; ox++) zero_pixel(orow + (size_t)ox * a->ystep, cn);
                continue;
            }
            t.nky = kyh - kyl;
            const float *xrow = a->x + (size_t)(iy0 + kyl) * iw * cin;
            const float *wrow = wblock + (size_t)kyl * t.wky;
            for (int ox = 0; ox < a->ow;) {
                if (ox >= oxl && ox < oxh) {
                    const int pb = oxh - ox < blk ? oxh - ox : blk;
                    t.nkx = a->kw;
                    tile(&t, xrow + (size_t)(ox * sx - a->pl) * cin, wrow, orow + (size_t)ox * a->ystep, pb, nv, m);
                    ox += pb;
                } else {
                    const int ix0 = ox * sx - a->pl;
                    const int kxl = ix0 < 0 ? -ix0 : 0;
                    const int kxh = iw - ix0 < a->kw ? iw - ix0 : a->kw;
                    if (kxl >= kxh) zero_pixel(orow + (size_t)ox * a->ystep, cn);
                    else {
                        t.nkx = kxh - kxl;
                        border_pixel(&t, xrow + (size_t)(ix0 + kxl) * cin, wrow + (size_t)kxl * t.wkx,
                                     orow + (size_t)ox * a->ystep, nv, m);
                    }
                    ox += 1;
                }
            }
        }
    }
}

// NHWC through a zero-padded copy in buf (planar_h x planar_w x cin, the image at (pt, pl)):
// every output pixel then has all its taps inside, so whole rows run as register tiles instead
// of the 2 border columns per row running one pixel at a time (a quarter of an 8x8 map). The
// zeros are written once per buffer (clear); each image overwrites only the interior.
static void conv1_nhwc_padded(const conv1 *a, float *buf, int clear) {
    const int hp = planar_h(a), wp = planar_w(a), cin = a->cin;
    if (clear) memset(buf, 0, (size_t)hp * wp * cin * sizeof(float));
    const int x1 = a->iw < wp - a->pl ? a->iw : wp - a->pl;  // image columns that land in buf
    for (int y = 0; y < a->ih; y++) {
        const int by = a->pt + y;
        if (by >= hp) break;
        if (x1 > 0)
            memcpy(buf + ((size_t)by * wp + a->pl) * cin, a->x + (size_t)y * a->iw * cin, (size_t)x1 * cin * sizeof(float));
    }
    conv1 b = *a;
    b.x = buf; b.ih = hp; b.iw = wp; b.pt = 0; b.pl = 0;
    conv1_nhwc(&b);
}

// Row-planar padded copy in buf (sx must be 1 or 2).
static void conv1_planar(const conv1 *a, float *buf, int clear) {
    const int cin = a->cin, cout = a->cout;
    const int hp = planar_h(a), wp = planar_w(a);
    place_planar(a->x, a->ih, a->iw, cin, buf, hp, wp, a->pt, a->pl, clear);
    const fwd_tile_fn tile = tile_for_pstep(a->sx);
    const int rowstride = wp * cin;
    for (int co0 = 0; co0 < cout; co0 += 64) {
        const int cn = cout - co0 < 64 ? cout - co0 : 64;
        const int nv = (cn + 15) / 16;
        const __mmask16 m = tail_mask(cn - 16 * (nv - 1));
        const int blk = pick_block(a->ow, max_pb_for_nv[nv]);
        tile_args t = {rowstride, 1, wp, cin, cout, a->kh, a->kw, (size_t)a->kw * cin * cout, (size_t)cin * cout, a->ystep,
                       (size_t)cout};
        for (int oy = 0; oy < a->oh; oy++) {
            for (int ox = 0; ox < a->ow; ox += blk) {
                const int pb = a->ow - ox < blk ? a->ow - ox : blk;
                const float *src = buf + (size_t)oy * a->sy * rowstride + (size_t)ox * a->sx;
                tile(&t, src, a->w + co0, a->y + (size_t)oy * a->yrow + (size_t)ox * a->ystep + co0, pb, nv, m);
            }
        }
    }
}

// Weight-gradient tile: CB input channels x NV output-channel vectors of one tap, over the
// output pixels [oyl, oyh) x [oxl, oxh) whose tap falls inside the image.
INL void wgrad_tile(const conv1 *a, const float *dy, float *dw, int ky, int kx, int ci0, int oyl, int oyh,
                    int oxl, int oxh, const int CB, const int NV, __mmask16 m) {
    const int cin = a->cin, cout = a->cout;
    __m512 acc[16][4];
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++)
            acc[c][v] = v == NV - 1 ? _mm512_maskz_loadu_ps(m, dw + (size_t)c * cout + 16 * v)
                                    : _mm512_loadu_ps(dw + (size_t)c * cout + 16 * v);
    const size_t pstep = (size_t)a->sx * cin;
    for (int oy = oyl; oy < oyh; oy++) {
        const float *s = a->x + ((size_t)(oy * a->sy - a->pt + ky) * a->iw + (oxl * a->sx - a->pl + kx)) * cin + ci0;
        const float *d = dy + ((size_t)oy * a->ow + oxl) * cout;
        for (int ox = oxl; ox < oxh; ox++) {
            __m512 dv[4];
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++)
                dv[v] = v == NV - 1 ? _mm512_maskz_loadu_ps(m, d + 16 * v) : _mm512_loadu_ps(d + 16 * v);
#pragma clang loop unroll(full)
            for (int c = 0; c < CB; c++) {
                __m512 b = _mm512_set1_ps(s[c]);
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++) acc[c][v] = _mm512_fmadd_ps(b, dv[v], acc[c][v]);
            }
            s += pstep;
            d += cout;
        }
    }
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            if (v == NV - 1) _mm512_mask_storeu_ps(dw + (size_t)c * cout + 16 * v, m, acc[c][v]);
            else _mm512_storeu_ps(dw + (size_t)c * cout + 16 * v, acc[c][v]);
        }
}

#define WG_CASE(C, V) case C: wgrad_tile(a, dyp, dwp, ky, kx, ci0, oyl, oyh, oxl, oxh, C, V, m); break;
#define WG_SWITCH(V)                                                                              \
    switch (cb) {                                                                                 \
        WG_CASE(1, V) WG_CASE(2, V) WG_CASE(3, V) WG_CASE(4, V) WG_CASE(5, V) WG_CASE(6, V)       \
        WG_CASE(7, V) WG_CASE(8, V) WG_CASE(9, V) WG_CASE(10, V) WG_CASE(11, V) WG_CASE(12, V)    \
        WG_CASE(13, V) WG_CASE(14, V) WG_CASE(15, V) WG_CASE(16, V) default: break;               \
    }

static void wgrad_avx512(const conv1 *a, const float *dy, float *dw) {
    const int cin = a->cin, cout = a->cout;
    for (int co0 = 0; co0 < cout; co0 += 64) {
        const int cn = cout - co0 < 64 ? cout - co0 : 64;
        const int nv = (cn + 15) / 16;
        const __mmask16 m = tail_mask(cn - 16 * (nv - 1));
        // The widest channel block the registers allow, even if the last block is narrower: each
        // pixel costs NV loads + CB broadcasts for CB x NV FMAs (pick_block's divisor of 64 or
        // 128 was 4 for NV = 4, half a load per FMA). Blocking does not change what each dw
        // element sums, or in which order.
        const int blk = cin < max_pb_for_nv[nv] ? cin : max_pb_for_nv[nv];
        for (int ky = 0; ky < a->kh; ky++) {
            int oyl, oyh;
            valid_range(a->oh, a->sy, a->pt, ky, a->ih, &oyl, &oyh);
            if (oyl >= oyh) continue;
            for (int kx = 0; kx < a->kw; kx++) {
                int oxl, oxh;
                valid_range(a->ow, a->sx, a->pl, kx, a->iw, &oxl, &oxh);
                if (oxl >= oxh) continue;
                for (int ci0 = 0; ci0 < cin; ci0 += blk) {
                    const int cb = cin - ci0 < blk ? cin - ci0 : blk;
                    float *dwp = dw + ((size_t)(ky * a->kw + kx) * cin + ci0) * cout + co0;
                    const float *dyp = dy + co0;
                    switch (nv) {
                    case 1: WG_SWITCH(1) break;
                    case 2: WG_SWITCH(2) break;
                    case 3: WG_SWITCH(3) break;
                    default: WG_SWITCH(4) break;
                    }
                }
            }
        }
    }
}
#pragma clang attribute pop
#endif

enum { PATH_PORTABLE = 0, PATH_PLANAR = 1, PATH_NHWC = 2, PATH_NHWC_PADDED = 3 };

// Whether some output pixel of a conv1 has a tap outside the image (a zero-padding tap).
static int has_border(const conv1 *a) {
    return a->pt > 0 || a->pl > 0 || (a->oh - 1) * a->sy - a->pt + a->kh > a->ih
        || (a->ow - 1) * a->sx - a->pl + a->kw > a->iw;
}

// Which kernel a convolution runs on: AVX-512 straight from NHWC when sx*cin is a specialised
// step, AVX-512 on a row-planar padded copy for other strides 1 and 2, else portable.
static int path_for(const conv1 *a) {
#if CK_X86
    if (a->portable || !ck_uses_avx512()) return PATH_PORTABLE;
    const int step = a->sx * a->cin;
    if (step == 16 || step == 32 || step == 64 || step == 128) return has_border(a) && a->pt >= 0 && a->pl >= 0 ? PATH_NHWC_PADDED : PATH_NHWC;
    if (a->sx == 1 || a->sx == 2) return PATH_PLANAR;
#endif
    return PATH_PORTABLE;
}

// Runs one image; buf is scratch of planar_h * planar_w * cin floats when the path is planar.
static void conv1_run(const conv1 *a, float *buf, int first) {
    switch (path_for(a)) {
#if CK_X86
    case PATH_NHWC: conv1_nhwc(a); return;
    case PATH_NHWC_PADDED: conv1_nhwc_padded(a, buf, first); return;
    case PATH_PLANAR: conv1_planar(a, buf, first); return;
#endif
    default: conv1_portable(a); return;
    }
    (void)buf; (void)first;
}

static float *conv1_scratch(const conv1 *a) {
    const int path = path_for(a);
    return path == PATH_PLANAR || path == PATH_NHWC_PADDED ? scratch((size_t)planar_h(a) * planar_w(a) * a->cin) : NULL;
}

// Weights packed for the column-sharing tiles, which take output channels 32 at a time: per
// block, [ky][ci][kx][32] (a short last block zero-padded). A tile's weights for one (ky, ci) are
// then 3 x 128 consecutive bytes and a block streams through in order; in HWIO they were 2 of
// every 8 cache lines at a stride of cout floats, the kx columns cin x cout floats apart, and
// the loads stalled on L2 (the hottest instructions of a ResNet-26 inference profile). Same
// values, same order of operations: only where the weights are read from changes.
static float *conv1_pack(const conv1 *a) {
#if CK_X86
    const int path = path_for(a);
    if ((path != PATH_NHWC && path != PATH_NHWC_PADDED) || a->sx != 1 || !shared_tile_for(a->cin, a->kw)) return NULL;
    const int cin = a->cin, cout = a->cout, kh = a->kh, kw = a->kw, blocks = (cout + 31) / 32;
    float *p = scratch((size_t)blocks * kh * cin * kw * 32);
    float *o = p;
    for (int b = 0; b < blocks; b++)
        for (int ky = 0; ky < kh; ky++)
            for (int ci = 0; ci < cin; ci++)
                for (int kx = 0; kx < kw; kx++) {
                    const float *src = a->w + ((size_t)(ky * kw + kx) * cin + ci) * cout + b * 32;
                    for (int j = 0; j < 32; j++) *o++ = b * 32 + j < cout ? src[j] : 0;
                }
    return p;
#else
    (void)a;
    return NULL;
#endif
}

void ck_conv_forward(const ck_conv_geom *g, const float *x, const float *w, float *y, int n0, int n1,
                     const ck_epilogue *epilogue) {
    const int oh = ck_out_h(g), ow = ck_out_w(g);
    conv1 a = {x, g->h, g->w, g->cin, g->pt, g->pl, w, g->cout, g->kh, g->kw, g->sh, g->sw,
               y, oh, ow, (size_t)g->cout, (size_t)ow * g->cout, g->portable};
    float *buf = conv1_scratch(&a), *packed = conv1_pack(&a);
    a.wpacked = packed;
    const size_t pixels = (size_t)oh * ow;
    for (int n = n0; n < n1; n++) {
        a.x = x + (size_t)n * g->h * g->w * g->cin;
        a.y = y + (size_t)n * pixels * g->cout;
        conv1_run(&a, buf, n == n0);
        if (epilogue) ck_epilogue_rows(epilogue, y, (size_t)g->cout, (size_t)n * pixels, (size_t)(n + 1) * pixels);
    }
    free(buf);
    free(packed);
}

void ck_conv_flip_weights(const ck_conv_geom *g, const float *w, float *wflip) {
    for (int ky = 0; ky < g->kh; ky++)
        for (int kx = 0; kx < g->kw; kx++) {
            const float *src = w + (size_t)((g->kh - 1 - ky) * g->kw + (g->kw - 1 - kx)) * g->cin * g->cout;
            float *dst = wflip + (size_t)(ky * g->kw + kx) * g->cout * g->cin;
            for (int ci = 0; ci < g->cin; ci++)
                for (int co = 0; co < g->cout; co++) dst[(size_t)co * g->cin + ci] = src[(size_t)ci * g->cout + co];
        }
}

// dx[iy][ix][ci] = sum over taps and output pixels with oy*sh - pt + ky == iy (and likewise in x)
// of dy[oy][ox][co] * w[ky][kx][ci][co]. Split dx by phase (iy mod sh, ix mod sw): a phase only
// meets the taps ky = ky0 + sh*j (ky0 = (py + pt) mod sh) and reads dy at oy = a + cy - j for dx
// row sh*a + py, so it is a stride-1 convolution of dy with a flipped, transposed sub-kernel
// (for stride 1, the single phase is the whole flipped kernel with padding kh-1-pt): no
// multiplications by the zeros of a dilated dy.
void ck_conv_backward_input(const ck_conv_geom *g, const float *dy, const float *w, float *dx, int n0, int n1) {
    const int oh = ck_out_h(g), ow = ck_out_w(g), sh = g->sh, sw = g->sw;
    const int cin = g->cin, cout = g->cout;
    for (int py = 0; py < sh; py++) {
        for (int px = 0; px < sw; px++) {
            const int na = py < g->h ? (g->h - py + sh - 1) / sh : 0;
            const int nb = px < g->w ? (g->w - px + sw - 1) / sw : 0;
            if (na == 0 || nb == 0) continue;
            const int ky0 = (py + g->pt) % sh, kx0 = (px + g->pl) % sw;
            const int ny = ky0 < g->kh ? (g->kh - 1 - ky0) / sh + 1 : 0;
            const int nx = kx0 < g->kw ? (g->kw - 1 - kx0) / sw + 1 : 0;
            if (ny == 0 || nx == 0) {
                for (int n = n0; n < n1; n++)
                    for (int a = 0; a < na; a++)
                        for (int b = 0; b < nb; b++)
                            memset(dx + (size_t)n * g->h * g->w * cin + ((size_t)(sh * a + py) * g->w + sw * b + px) * cin, 0,
                                   (size_t)cin * sizeof(float));
                continue;
            }
            const int cy = (py + g->pt - ky0) / sh, cx = (px + g->pl - kx0) / sw;
            // Sub-kernel, flipped and transposed: [ny][nx][cout][cin].
            float *wsub = scratch((size_t)ny * nx * cout * cin);
            for (int j = 0; j < ny; j++)
                for (int i = 0; i < nx; i++) {
                    const float *src = w + (size_t)((ky0 + sh * (ny - 1 - j)) * g->kw + kx0 + sw * (nx - 1 - i)) * cin * cout;
                    float *dst = wsub + (size_t)(j * nx + i) * cout * cin;
                    for (int ci = 0; ci < cin; ci++)
                        for (int co = 0; co < cout; co++) dst[(size_t)co * cin + ci] = src[(size_t)ci * cout + co];
                }
            conv1 a = {dy, oh, ow, cout, ny - 1 - cy, nx - 1 - cx, wsub, cin, ny, nx, 1, 1,
                       dx, na, nb, (size_t)sw * cin, (size_t)sh * g->w * cin, g->portable};
            float *buf = conv1_scratch(&a), *packed = conv1_pack(&a);
            a.wpacked = packed;
            for (int n = n0; n < n1; n++) {
                a.x = dy + (size_t)n * oh * ow * cout;
                a.y = dx + (size_t)n * g->h * g->w * cin + ((size_t)py * g->w + px) * cin;
                conv1_run(&a, buf, n == n0);
            }
            free(buf);
            free(packed);
            free(wsub);
        }
    }
}

void ck_conv_backward_weight(const ck_conv_geom *g, const float *x, const float *dy, float *dw, int n0, int n1) {
    const int oh = ck_out_h(g), ow = ck_out_w(g);
    conv1 a = {x, g->h, g->w, g->cin, g->pt, g->pl, NULL, g->cout, g->kh, g->kw, g->sh, g->sw,
               NULL, oh, ow, 0, 0, g->portable};
    for (int n = n0; n < n1; n++) {
        a.x = x + (size_t)n * g->h * g->w * g->cin;
        const float *dyn = dy + (size_t)n * oh * ow * g->cout;
#if CK_X86
        if (!g->portable && ck_uses_avx512()) { wgrad_avx512(&a, dyn, dw); continue; }
#endif
        wgrad_portable(&a, dyn, dw);
    }
}
