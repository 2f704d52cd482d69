// Direct convolution kernels for NHWC activations and HWIO weights.
//
// Small channel counts (16-64, the CIFAR ResNets) make im2col + sgemm inefficient: the GEMMs are
// thin (N = cout = 16..64, K = 9 * cin) and im2col/col2im move 9x the activations through memory.
// These kernels compute the convolution directly from a zero-padded copy of one image (so the
// inner loops have no bounds checks), vectorised over output channels: 16 floats = one zmm
// register, a tile of PB output pixels x NV channel vectors accumulates in registers.
//
// Every function has an AVX-512 version (selected at run time with __builtin_cpu_supports) and a
// portable one, so the binary runs on any x86-64. The arithmetic order of each output element is
// fixed by the code (no threading inside): results are deterministic.
#include "CKernels.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define CK_X86 1
#endif

int ck_version(void) { return 2; }

static int g_avx512 = -1;

int ck_uses_avx512(void) {
#if CK_X86
    if (g_avx512 < 0) {
        __builtin_cpu_init();
        g_avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")
            && __builtin_cpu_supports("fma");
    }
    return g_avx512;
#else
    return 0;
#endif
}

static float *scratch(size_t n) {
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes > 0 ? bytes : 64);
    if (!p) abort();
    return p;
}

// Writes the (sh x sw x c) image src into the zeroed (hp x wp x c) buffer, element (y, x) at
// (top + y * dy, left + x * dx); elements that land outside are dropped.
static void place(const float *src, int sh, int sw, int c, float *buf, int hp, int wp,
                  int top, int left, int dy, int dx, int clear) {
    // The same positions are written for every image, so the zeros around them only need
    // writing once per buffer.
    if (clear) memset(buf, 0, (size_t)hp * wp * c * sizeof(float));
    if (dx == 1 && left >= 0 && left + sw <= wp) {
        for (int y = 0; y < sh; y++) {
            int by = top + y * dy;
            if (by < 0 || by >= hp) continue;
            memcpy(buf + ((size_t)by * wp + left) * c, src + (size_t)y * sw * c, (size_t)sw * c * sizeof(float));
        }
        return;
    }
    for (int y = 0; y < sh; y++) {
        int by = top + y * dy;
        if (by < 0 || by >= hp) continue;
        for (int x = 0; x < sw; x++) {
            int bx = left + x * dx;
            if (bx < 0 || bx >= wp) continue;
            memcpy(buf + ((size_t)by * wp + bx) * c, src + ((size_t)y * sw + x) * c, (size_t)c * sizeof(float));
        }
    }
}

// Like place, but the buffer is row-planar: [hp][c][wp] (each row's channels are planes), so a
// run of output pixels reads consecutive floats of one channel.
static void place_planar(const float *src, int sh, int sw, int c, float *buf, int hp, int wp,
                         int top, int left, int dy, int dx, int clear) {
    if (clear) memset(buf, 0, (size_t)hp * wp * c * sizeof(float));
    for (int y = 0; y < sh; y++) {
        int by = top + y * dy;
        if (by < 0 || by >= hp) continue;
        float *row = buf + (size_t)by * c * wp;
        for (int x = 0; x < sw; x++) {
            int bx = left + x * dx;
            if (bx < 0 || bx >= wp) continue;
            const float *s = src + ((size_t)y * sw + x) * c;
            for (int ci = 0; ci < c; ci++) row[(size_t)ci * wp + bx] = s[ci];
        }
    }
}

// One image: y[oy][ox][co] = sum_{ky,kx,ci} xp[oy*sy+ky][ox*sx+kx][ci] * w[ky][kx][ci][co], xp a
// padded (hp x wp x cin) image large enough that no tap reads outside it.
typedef struct {
    const float *xp; int wp, cin;
    const float *w; int cout, kh, kw, sy, sx;
    float *y; int oh, ow;
    int layout;  // LAYOUT_*: how xp is stored and which kernel runs
} core_args;

enum { LAYOUT_PORTABLE = 0, LAYOUT_PLANAR = 1, LAYOUT_NHWC_FAST = 2 };

static void core_portable(const core_args *a) {
    const int cin = a->cin, cout = a->cout;
    for (int oy = 0; oy < a->oh; oy++) {
        for (int ox = 0; ox < a->ow; ox++) {
            float *out = a->y + ((size_t)oy * a->ow + ox) * cout;
            for (int co = 0; co < cout; co++) out[co] = 0;
            for (int ky = 0; ky < a->kh; ky++) {
                for (int kx = 0; kx < a->kw; kx++) {
                    const float *src = a->xp + ((size_t)(oy * a->sy + ky) * a->wp + ox * a->sx + kx) * cin;
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

// dw[ky][kx][ci][co] += sum_{oy,ox} xp[oy*sy+ky][ox*sx+kx][ci] * dy[oy][ox][co] for one image.
static void wgrad_portable(const core_args *a, const float *dy, float *dw) {
    const int cin = a->cin, cout = a->cout;
    for (int oy = 0; oy < a->oh; oy++) {
        for (int ox = 0; ox < a->ow; ox++) {
            const float *d = dy + ((size_t)oy * a->ow + ox) * cout;
            for (int ky = 0; ky < a->kh; ky++) {
                for (int kx = 0; kx < a->kw; kx++) {
                    const float *src = a->xp + ((size_t)(oy * a->sy + ky) * a->wp + ox * a->sx + kx) * cin;
                    float *wt = dw + (size_t)(ky * a->kw + kx) * cin * cout;
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

// A tile of PB output pixels (consecutive ox) x NV channel vectors (the last one masked).
// Pixel p of input channel ci of tap (ky, kx) is at src[ky*rowstride + kx*kxstep + ci*cstep +
// p*PSTEP] with PSTEP a compile-time constant, so every broadcast is one base pointer plus a
// constant displacement: the inner loop is loads and FMAs only. Two layouts use it: NHWC
// (kxstep = cin, cstep = 1, PSTEP = sx*cin for the common channel counts) and row-planar
// ([row][ci][x]: kxstep = 1, cstep = wp, PSTEP = sx) for everything else.
INL void fwd_tile(const float *src, int rowstride, int kxstep, int cstep, int cin, const float *w, int cout,
                  int kh, int kw, float *out, const int PB, const int NV, const int PSTEP, __mmask16 m) {
    __m512 acc[16][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[p][v] = _mm512_setzero_ps();
    for (int ky = 0; ky < kh; ky++) {
        for (int kx = 0; kx < kw; kx++) {
            const float *s = src + (size_t)ky * rowstride + (size_t)kx * kxstep;
            const float *wt = w + (size_t)(ky * kw + kx) * cin * cout;
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
                wt += cout;
            }
        }
    }
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            if (v == NV - 1) _mm512_mask_storeu_ps(out + (size_t)p * cout + 16 * v, m, acc[p][v]);
            else _mm512_storeu_ps(out + (size_t)p * cout + 16 * v, acc[p][v]);
        }
}

#define FWD_CASE(P, V, S) case P: fwd_tile(src, rowstride, kxstep, cstep, cin, w, cout, kh, kw, out, P, V, S, m); break;
#define FWD_SWITCH(V, S)                                                                                         \
    switch (pb) {                                                                                                \
        FWD_CASE(1, V, S) FWD_CASE(2, V, S) FWD_CASE(3, V, S) FWD_CASE(4, V, S) FWD_CASE(5, V, S)                \
        FWD_CASE(6, V, S) FWD_CASE(7, V, S) FWD_CASE(8, V, S) FWD_CASE(9, V, S) FWD_CASE(10, V, S)               \
        FWD_CASE(11, V, S) FWD_CASE(12, V, S) FWD_CASE(13, V, S) FWD_CASE(14, V, S) FWD_CASE(15, V, S)           \
        FWD_CASE(16, V, S) default: break;                                                                       \
    }
#define FWD_TILE_FN(S)                                                                                           \
    static void fwd_tile_p##S(const float *src, int rowstride, int kxstep, int cstep, int cin, const float *w,   \
                              int cout, int kh, int kw, float *out, int pb, int nv, __mmask16 m) {               \
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

typedef void (*fwd_tile_fn)(const float *, int, int, int, int, const float *, int, int, int, float *, int, int, __mmask16);

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

static const int max_pb_for_nv[5] = {0, 16, 12, 8, 6};

// The largest tile width <= cap that divides n, unless that is much smaller than cap.
static int pick_block(int n, int cap) {
    if (n <= cap) return n;
    for (int b = cap; b >= (cap + 1) / 2; b--)
        if (n % b == 0) return b;
    return cap;
}

// a->layout: LAYOUT_NHWC_FAST (a->xp NHWC, sx*cin a specialised step) or LAYOUT_PLANAR.
static void core_avx512(const core_args *a) {
    const int cin = a->cin, cout = a->cout, wp = a->wp;
    const int rowstride = wp * cin;
    const int planar = a->layout == LAYOUT_PLANAR;
    const int kxstep = planar ? 1 : cin, cstep = planar ? wp : 1;
    const fwd_tile_fn tile = tile_for_pstep(planar ? a->sx : a->sx * cin);
    for (int co0 = 0; co0 < cout; co0 += 64) {
        const int cn = cout - co0 < 64 ? cout - co0 : 64;
        const int nv = (cn + 15) / 16;
        const __mmask16 m = tail_mask(cn - 16 * (nv - 1));
        const int blk = pick_block(a->ow, max_pb_for_nv[nv]);
        for (int oy = 0; oy < a->oh; oy++) {
            for (int ox = 0; ox < a->ow; ox += blk) {
                const int pb = a->ow - ox < blk ? a->ow - ox : blk;
                const float *src = a->xp + (size_t)oy * a->sy * rowstride + (size_t)ox * a->sx * kxstep;
                float *out = a->y + ((size_t)oy * a->ow + ox) * cout + co0;
                tile(src, rowstride, kxstep, cstep, cin, a->w + co0, cout, a->kh, a->kw, out, pb, nv, m);
            }
        }
    }
}

// Weight-gradient tile: CB input channels x NV output-channel vectors of one tap, over all pixels.
INL void wgrad_tile(const core_args *a, const float *xbase, const float *dy, float *dw, int ci0,
                    const int CB, const int NV, __mmask16 m) {
    const int cin = a->cin, cout = a->cout;
    __m512 acc[16][4];
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++)
            acc[c][v] = v == NV - 1 ? _mm512_maskz_loadu_ps(m, dw + (size_t)c * cout + 16 * v)
                                    : _mm512_loadu_ps(dw + (size_t)c * cout + 16 * v);
    const size_t pstep = (size_t)a->sx * cin;
    for (int oy = 0; oy < a->oh; oy++) {
        const float *s = xbase + (size_t)oy * a->sy * a->wp * cin + ci0;
        const float *d = dy + (size_t)oy * a->ow * cout;
        for (int ox = 0; ox < a->ow; ox++) {
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

#define WG_CASE(C, V) case C: wgrad_tile(a, xbase, dy, dwp, ci0, C, V, m); break;
#define WG_SWITCH(V)                                                                              \
    switch (cb) {                                                                                 \
        WG_CASE(1, V) WG_CASE(2, V) WG_CASE(3, V) WG_CASE(4, V) WG_CASE(5, V) WG_CASE(6, V)       \
        WG_CASE(7, V) WG_CASE(8, V) WG_CASE(9, V) WG_CASE(10, V) WG_CASE(11, V) WG_CASE(12, V)    \
        WG_CASE(13, V) WG_CASE(14, V) WG_CASE(15, V) WG_CASE(16, V) default: break;               \
    }

static void wgrad_avx512(const core_args *a, const float *dy, float *dw) {
    const int cin = a->cin, cout = a->cout;
    for (int co0 = 0; co0 < cout; co0 += 64) {
        const int cn = cout - co0 < 64 ? cout - co0 : 64;
        const int nv = (cn + 15) / 16;
        const __mmask16 m = tail_mask(cn - 16 * (nv - 1));
        const int blk = pick_block(cin, max_pb_for_nv[nv]);
        for (int ky = 0; ky < a->kh; ky++) {
            for (int kx = 0; kx < a->kw; kx++) {
                const float *xbase = a->xp + ((size_t)ky * a->wp + kx) * cin;
                for (int ci0 = 0; ci0 < cin; ci0 += blk) {
                    const int cb = cin - ci0 < blk ? cin - ci0 : blk;
                    float *dwp = dw + ((size_t)(ky * a->kw + kx) * cin + ci0) * cout + co0;
                    const float *dyp = dy + co0;
                    switch (nv) {
                    case 1: { const float *dy = dyp; WG_SWITCH(1) } break;
                    case 2: { const float *dy = dyp; WG_SWITCH(2) } break;
                    case 3: { const float *dy = dyp; WG_SWITCH(3) } break;
                    default: { const float *dy = dyp; WG_SWITCH(4) } break;
                    }
                }
            }
        }
    }
}
#pragma clang attribute pop
#endif

// Which kernel and input layout a convolution with this column stride and input channel count
// runs on: AVX-512 straight from NHWC when sx*cin is a specialised step, AVX-512 on a row-planar
// copy for other strides 1 and 2, else portable (NHWC).
static int layout_for(int portable, int sx, int cin) {
#if CK_X86
    if (portable || !ck_uses_avx512()) return LAYOUT_PORTABLE;
    const int step = sx * cin;
    if (step == 16 || step == 32 || step == 64 || step == 128) return LAYOUT_NHWC_FAST;
    if (sx == 1 || sx == 2) return LAYOUT_PLANAR;
    return LAYOUT_PORTABLE;
#else
    (void)portable; (void)sx; (void)cin;
    return LAYOUT_PORTABLE;
#endif
}

// Copies an image into the layout's zero-padded buffer (see place / place_planar).
static void place_for(int layout, const float *src, int sh, int sw, int c, float *buf, int hp, int wp,
                      int top, int left, int dy, int dx, int clear) {
    if (layout == LAYOUT_PLANAR) place_planar(src, sh, sw, c, buf, hp, wp, top, left, dy, dx, clear);
    else place(src, sh, sw, c, buf, hp, wp, top, left, dy, dx, clear);
}

static void core(const core_args *a) {
#if CK_X86
    if (a->layout != LAYOUT_PORTABLE) { core_avx512(a); return; }
#endif
    core_portable(a);
}

static void wgrad(const core_args *a, const float *dy, float *dw) {
#if CK_X86
    if (a->layout != LAYOUT_PORTABLE && ck_uses_avx512()) { wgrad_avx512(a, dy, dw); return; }
#endif
    wgrad_portable(a, dy, dw);
}

static int needs_padding(const ck_conv_geom *g) { return g->pt || g->pl || g->pb || g->pr; }

void ck_conv_forward(const ck_conv_geom *g, const float *x, const float *w, float *y, int n0, int n1) {
    const int oh = ck_out_h(g), ow = ck_out_w(g);
    const int hp = g->h + g->pt + g->pb, wp = g->w + g->pl + g->pr;
    const int layout = layout_for(g->portable, g->sw, g->cin);
    const int pad = needs_padding(g) || layout == LAYOUT_PLANAR;
    float *buf = pad ? scratch((size_t)hp * wp * g->cin) : NULL;
    for (int n = n0; n < n1; n++) {
        const float *img = x + (size_t)n * g->h * g->w * g->cin;
        if (pad) place_for(layout, img, g->h, g->w, g->cin, buf, hp, wp, g->pt, g->pl, 1, 1, n == n0);
        core_args a = {pad ? buf : img, pad ? wp : g->w, g->cin, w, g->cout, g->kh, g->kw, g->sh, g->sw,
                       y + (size_t)n * oh * ow * g->cout, oh, ow, layout};
        core(&a);
    }
    free(buf);
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

// dx[iy][ix][ci] = sum over taps and output pixels with oy*sy - pt + ky == iy (and likewise in x)
// of dy[oy][ox][co] * w[ky][kx][ci][co]. Placing dy, dilated by the stride, at offset
// (kh-1-pt, kw-1-pl) of a zero buffer turns this into a stride-1 convolution with the flipped,
// transposed weights.
// Strided case: split dx by the phase (iy mod sh, ix mod sw). Each phase only meets the taps
// ky = ky0 + sh*j (ky0 = (py + pt) mod sh), and reads dy at oy = a + cy - j for dx row sh*a + py,
// so it is a stride-1 convolution of the (undilated) dy with a sub-kernel: no multiplications by
// the zeros a dilated dy would hold.
static void backward_input_strided(const ck_conv_geom *g, const float *w, const float *dy, float *dx, int n0, int n1) {
    const int oh = ck_out_h(g), ow = ck_out_w(g), sh = g->sh, sw = g->sw;
    const int cin = g->cin, cout = g->cout;
    const int layout = layout_for(g->portable, 1, cout);
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
            const int hb = na + ny - 1, wb = nb + nx - 1;
            float *buf = scratch((size_t)hb * wb * cout);
            float *tmp = scratch((size_t)na * nb * cin);
            for (int n = n0; n < n1; n++) {
                const float *dyimg = dy + (size_t)n * oh * ow * cout;
                float *dximg = dx + (size_t)n * g->h * g->w * cin;
                place_for(layout, dyimg, oh, ow, cout, buf, hb, wb, ny - 1 - cy, nx - 1 - cx, 1, 1, n == n0);
                core_args ca = {buf, wb, cout, wsub, cin, ny, nx, 1, 1, tmp, na, nb, layout};
                core(&ca);
                for (int a = 0; a < na; a++)
                    for (int b = 0; b < nb; b++)
                        memcpy(dximg + ((size_t)(sh * a + py) * g->w + sw * b + px) * cin, tmp + ((size_t)a * nb + b) * cin,
                               (size_t)cin * sizeof(float));
            }
            free(tmp);
            free(buf);
            free(wsub);
        }
    }
}

// dx[iy][ix][ci] = sum over taps and output pixels with oy*sy - pt + ky == iy (and likewise in x)
// of dy[oy][ox][co] * w[ky][kx][ci][co]. For stride 1, placing dy at offset (kh-1-pt, kw-1-pl)
// of a zero buffer turns this into a convolution with the flipped, transposed weights.
void ck_conv_backward_input(const ck_conv_geom *g, const float *dy, const float *w, float *dx, int n0, int n1) {
    if (g->sh != 1 || g->sw != 1) {
        backward_input_strided(g, w, dy, dx, n0, n1);
        return;
    }
    const int oh = ck_out_h(g), ow = ck_out_w(g);
    float *wflip = scratch((size_t)g->kh * g->kw * g->cin * g->cout);
    ck_conv_flip_weights(g, w, wflip);
    const int hb = g->h + g->kh - 1, wb = g->w + g->kw - 1;
    float *buf = scratch((size_t)hb * wb * g->cout);
    const int layout = layout_for(g->portable, 1, g->cout);
    for (int n = n0; n < n1; n++) {
        place_for(layout, dy + (size_t)n * oh * ow * g->cout, oh, ow, g->cout, buf, hb, wb, g->kh - 1 - g->pt,
                  g->kw - 1 - g->pl, 1, 1, n == n0);
        core_args a = {buf, wb, g->cout, wflip, g->cin, g->kh, g->kw, 1, 1,
                       dx + (size_t)n * g->h * g->w * g->cin, g->h, g->w, layout};
        core(&a);
    }
    free(buf);
    free(wflip);
}

void ck_conv_backward_weight(const ck_conv_geom *g, const float *x, const float *dy, float *dw, int n0, int n1) {
    const int oh = ck_out_h(g), ow = ck_out_w(g);
    const int hp = g->h + g->pt + g->pb, wp = g->w + g->pl + g->pr;
    const int pad = needs_padding(g);
    float *buf = pad ? scratch((size_t)hp * wp * g->cin) : NULL;
    for (int n = n0; n < n1; n++) {
        const float *img = x + (size_t)n * g->h * g->w * g->cin;
        if (pad) place(img, g->h, g->w, g->cin, buf, hp, wp, g->pt, g->pl, 1, 1, n == n0);
        core_args a = {pad ? buf : img, pad ? wp : g->w, g->cin, NULL, g->cout, g->kh, g->kw, g->sh, g->sw,
                       NULL, oh, ow, g->portable ? LAYOUT_PORTABLE : LAYOUT_NHWC_FAST};
        wgrad(&a, dy + (size_t)n * oh * ow * g->cout, dw);
    }
    free(buf);
}
