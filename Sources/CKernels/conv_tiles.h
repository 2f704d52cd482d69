// The vector kernels, written once for a vector width and compiled once per width (conv_avx512.c,
// conv_avx2.c; kernels.c dispatches to their tables): CKW = 16 (AVX-512, zmm, masks in k
// registers) and CKW = 8 (AVX2 + FMA, ymm, masks as vectors for vmaskmov). Each inclusion
// defines the functions with its suffix (SFX) and the ISA's register-tile sizes: AVX-512 has 32
// vector registers, AVX2 16, so a tile of PB pixels x NV vectors needs PB*NV accumulators + NV
// (or KW*NV) weight vectors + 1 broadcast within that.
// The order of operations per output element is the same at every width (the sums run over taps
// and input channels, never across vector lanes), so the widths give the same values up to FMA
// contraction being the same: they do (both use FMA).
#if CKW == 16
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma"))), apply_to = function)
#define SFX(name) name##_avx512
#define VW 16
#define VF __m512
#define VM __mmask16
#define V_ZERO() _mm512_setzero_ps()
#define V_LOAD(p) _mm512_loadu_ps(p)
#define V_MLOAD(m, p) _mm512_maskz_loadu_ps(m, p)
#define V_STORE(p, v) _mm512_storeu_ps(p, v)
#define V_MSTORE(p, m, v) _mm512_mask_storeu_ps(p, m, v)
#define V_SET1(x) _mm512_set1_ps(x)
#define V_FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm512_add_ps(a, b)
#define V_SUB(a, b) _mm512_sub_ps(a, b)
// Tile widths by NV: PB*NV + NV + 1 <= 32 registers.
#define PB_NV1 16
#define PB_NV2 12
#define PB_NV3 8
#define PB_NV4 6
// Winograd's GEMMs: 4-vector channel blocks, tiles as wide as divides the block (as measured on
// AVX-512 machines; the AVX2 choice below was measured on Zen 3 only).
#define WINO_CO_BLOCK (4 * VW)
#define WINO_FULL_TILES 0
#define SH_PB_NV1 16
#define SH_PB_NV2 10
static inline VM SFX(tail_mask)(int n) { return n >= 16 ? (VM)0xFFFF : (VM)((1u << n) - 1); }
#elif CKW == 8
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define SFX(name) name##_avx2
#define VW 8
#define VF __m256
// A tail mask and whether it covers all 8 lanes: AMD Zen 1-3 run vmaskmovps as microcode (a
// masked ymm store is tens of uops), so a full mask takes plain loads and stores, which give the
// same bits. The test is loop-invariant and always predicted.
#ifndef CK_MASK8_DEFINED
#define CK_MASK8_DEFINED
typedef struct { __m256i bits; int full; } ck_mask8;
#endif
#define VM ck_mask8
#define V_ZERO() _mm256_setzero_ps()
#define V_LOAD(p) _mm256_loadu_ps(p)
#define V_MLOAD(m, p) ((m).full ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, (m).bits))
#define V_STORE(p, v) _mm256_storeu_ps(p, v)
#define V_MSTORE(p, m, v) ((m).full ? _mm256_storeu_ps(p, v) : _mm256_maskstore_ps(p, (m).bits, v))
#define V_SET1(x) _mm256_set1_ps(x)
#define V_FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define V_ADD(a, b) _mm256_add_ps(a, b)
#define V_SUB(a, b) _mm256_sub_ps(a, b)
// 16 registers: PB*NV + NV + 1 <= 16 (NV = 4 at PB = 3 takes one more: a weight operand
// comes from L1 instead), and for the column-sharing tiles PB*NV + KW*NV + 1 <= 16.
#define PB_NV1 12
#define PB_NV2 6
#define PB_NV3 4
#define PB_NV4 3
// Winograd's GEMMs take 2-vector channel blocks in 6-tile tiles (12 accumulators, 15 registers)
// rather than 4 x 3 (17: a spill), over blocks of a multiple of 12 tiles so every tile is 6 wide
// (pick_block's divisors of 16, 32 and 64 gave 2 x 4, 8 accumulators for 6 loads). Measured on
// an AMD EPYC (Zen 3), farm-bench pairs: ResNet-26 w32 inference +15-25%, and the weight
// gradient's 6 x 2 tiles (not 3 x 4) training +0-23% more. Same sums in the same order.
#define WINO_CO_BLOCK (2 * VW)
#define WINO_FULL_TILES 1
#define SH_PB_NV1 12
#define SH_PB_NV2 4
// Lanes [0, n) set (sign bit), for vmaskmovps; full when n >= 8.
static inline VM SFX(tail_mask)(int n) {
    VM m = {_mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), n >= 8};
    return m;
}
#else
#error "CKW must be 16 or 8"
#endif
// Output channels per block: plain tiles take up to 4 vectors on AVX-512 and 2 on AVX2,
// column-sharing tiles 2 (and their weights are packed in blocks of SH_BLOCK channels,
// conv1_pack). On AVX2, 4-vector tiles (3 x 4 accumulators + 4 weights + 1 broadcast = 17 of 16
// registers) made clang spill an accumulator to the stack inside the FMA loop, and the
// store-to-load forwarding sat in every FMA chain: the stride-2 32 -> 64 convolution ran at half
// the speed per FMA of the 16-channel ones, and the weight gradients likewise (perf annotate,
// AMD EPYC Zen 3). 6 x 2 tiles keep everything in registers. The tile shape does not change any
// output element's order of operations (taps, then input channels), so results are unchanged.
#if CKW == 16
#define CO_BLOCK (4 * VW)
#else
#define CO_BLOCK (2 * VW)
#endif
#define SH_BLOCK (2 * VW)
#define MAX_PB_FOR_NV {0, PB_NV1, PB_NV2, PB_NV3, PB_NV4}
#define MAX_PB_SHARED {0, SH_PB_NV1, SH_PB_NV2}

// The register tiles are instantiated (fully unrolled, one function per width) only for the
// shapes the blocking rules pick: tiles of at most MAX_PB_FOR_NV[nv] (or MAX_PB_SHARED[nv])
// pixels or channels, and nv <= CO_BLOCK / VW (2 on AVX2: its 3- and 4-vector tiles were never
// reached). The unreachable shapes had made kernels.c take 3 minutes to compile.
// CK_UPTO(n)(M, args...) expands to M(1, args...) ... M(n, args...) for n in {3, 4, 6, 8, 10, 12, 16}.
#ifndef CK_UPTO
#define CK_CAT_(a, b) a##b
#define CK_CAT(a, b) CK_CAT_(a, b)
#define CK_UPTO(n) CK_CAT(CK_UPTO_, n)
#define CK_UPTO_3(M, ...) M(1, __VA_ARGS__) M(2, __VA_ARGS__) M(3, __VA_ARGS__)
#define CK_UPTO_4(M, ...) CK_UPTO_3(M, __VA_ARGS__) M(4, __VA_ARGS__)
#define CK_UPTO_6(M, ...) CK_UPTO_4(M, __VA_ARGS__) M(5, __VA_ARGS__) M(6, __VA_ARGS__)
#define CK_UPTO_8(M, ...) CK_UPTO_6(M, __VA_ARGS__) M(7, __VA_ARGS__) M(8, __VA_ARGS__)
#define CK_UPTO_10(M, ...) CK_UPTO_8(M, __VA_ARGS__) M(9, __VA_ARGS__) M(10, __VA_ARGS__)
#define CK_UPTO_12(M, ...) CK_UPTO_10(M, __VA_ARGS__) M(11, __VA_ARGS__) M(12, __VA_ARGS__)
#define CK_UPTO_16(M, ...) CK_UPTO_12(M, __VA_ARGS__) M(13, __VA_ARGS__) M(14, __VA_ARGS__) M(15, __VA_ARGS__) M(16, __VA_ARGS__)
#endif
// The cap on tile width for nv vectors, as a literal CK_UPTO can paste.
#define PB_CAP(nv) CK_CAT(PB_NV, nv)
// Cases for nv = 3 and 4 where CO_BLOCK allows them (AVX-512 only); SW(v, args) is the
// pixel/channel switch for nv = v.
#if CKW == 16
#define NV34_CASES(SW, ...) case 3: SW(3, __VA_ARGS__) break; case 4: SW(4, __VA_ARGS__) break;
#else
#define NV34_CASES(SW, ...)
#endif

INL void SFX(fwd_tile)(const tile_args *t, const float *src, const float *w, float *out,
                  const int PB, const int NV, const int PSTEP, VM m) {
    VF acc[16][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[p][v] = V_ZERO();
    const int cin = t->cin, cout = t->cout, cstep = t->cstep;
    for (int ky = 0; ky < t->nky; ky++) {
        for (int kx = 0; kx < t->nkx; kx++) {
            const float *s = src + (size_t)ky * t->rowstride + (size_t)kx * t->kxstep;
            const float *wt = w + ky * t->wky + kx * t->wkx;
            for (int ci = 0; ci < cin; ci++) {
                VF wv[4];
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    wv[v] = v == NV - 1 ? V_MLOAD(m, wt + VW * v) : V_LOAD(wt + VW * v);
#pragma clang loop unroll(full)
                for (int p = 0; p < PB; p++) {
                    VF b = V_SET1(s[p * PSTEP]);
#pragma clang loop unroll(full)
                    for (int v = 0; v < NV; v++) acc[p][v] = V_FMA(b, wv[v], acc[p][v]);
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
            float *o = out + p * t->ystep + VW * v;
            if (v == NV - 1) V_MSTORE(o, m, acc[p][v]);
            else V_STORE(o, acc[p][v]);
        }
}

#define FWD_CASE(P, V, S) case P: SFX(fwd_tile)(t, src, w, out, P, V, S, m); break;
#define FWD_SWITCH(V, S)                                                                                         \
    switch (pb) {                                                                                                \
        CK_UPTO(PB_CAP(V))(FWD_CASE, V, S)                                                                       \
        default: ck_tile_unreachable("forward", pb, V);                                                          \
    }
#define FWD_TILE_FN(S)                                                                                           \
    static void SFX(fwd_tile_p##S)(const tile_args *t, const float *src, const float *w, float *out, int pb, int nv,  \
                              VM m) {                                                                     \
        switch (nv) {                                                                                            \
        case 1: FWD_SWITCH(1, S) break;                                                                          \
        case 2: FWD_SWITCH(2, S) break;                                                                          \
        NV34_CASES(FWD_SWITCH, S)                                                                                \
        default: ck_tile_unreachable("forward", pb, nv);                                                         \
        }                                                                                                        \
    }
FWD_TILE_FN(1)
FWD_TILE_FN(2)
FWD_TILE_FN(16)
FWD_TILE_FN(32)
FWD_TILE_FN(64)
FWD_TILE_FN(128)

typedef void (*SFX(fwd_tile_fn))(const tile_args *, const float *, const float *, float *, int, int, VM);

static SFX(fwd_tile_fn) SFX(tile_for_pstep)(int pstep) {
    switch (pstep) {
    case 1: return SFX(fwd_tile_p1);
    case 2: return SFX(fwd_tile_p2);
    case 16: return SFX(fwd_tile_p16);
    case 32: return SFX(fwd_tile_p32);
    case 64: return SFX(fwd_tile_p64);
    case 128: return SFX(fwd_tile_p128);
    default: return NULL;
    }
}

// Stride-1 tile sharing each input broadcast across the KW kernel columns: input pixel q of the
// tile's row feeds output pixels q - kx for every kx, so one broadcast serves up to KW x NV FMAs
// (instead of NV), with the KW x NV weight vectors of (ky, ci) held in registers. NHWC only
// (PSTEP = cin), interior pixels only (all KW columns inside the image).
INL void SFX(fwd_tile_shared)(const tile_args *t, const float *src, const float *w, float *out,
                         const int PB, const int NV, const int PSTEP, const int KW, VM m) {
    VF acc[16][4];
#pragma clang loop unroll(full)
    for (int p = 0; p < PB; p++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) acc[p][v] = V_ZERO();
    const int cin = t->cin, cout = t->cout;
    for (int ky = 0; ky < t->nky; ky++) {
        const float *s = src + (size_t)ky * t->rowstride;
        const float *wt = w + ky * t->wky;
        for (int ci = 0; ci < cin; ci++) {
            VF wv[3][4];
#pragma clang loop unroll(full)
            for (int kx = 0; kx < KW; kx++)
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++)
                    wv[kx][v] = v == NV - 1 ? V_MLOAD(m, wt + kx * t->wkx + VW * v)
                                            : V_LOAD(wt + kx * t->wkx + VW * v);
#pragma clang loop unroll(full)
            for (int q = 0; q < PB + KW - 1; q++) {
                VF b = V_SET1(s[q * PSTEP]);
#pragma clang loop unroll(full)
                for (int kx = 0; kx < KW; kx++) {
                    const int p = q - kx;
                    if (p < 0 || p >= PB) continue;
#pragma clang loop unroll(full)
                    for (int v = 0; v < NV; v++) acc[p][v] = V_FMA(b, wv[kx][v], acc[p][v]);
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
            float *o = out + p * t->ystep + VW * v;
            if (v == NV - 1) V_MSTORE(o, m, acc[p][v]);
            else V_STORE(o, acc[p][v]);
        }
}

#define SH(P, V, S, K) case P: SFX(fwd_tile_shared)(t, src, w, out, P, V, S, K, m); break;
#define SH_NV1(S, K) switch (pb) { CK_UPTO(SH_PB_NV1)(SH, 1, S, K) default: ck_tile_unreachable("shared", pb, 1); }
#define SH_NV2(S, K) switch (pb) { CK_UPTO(SH_PB_NV2)(SH, 2, S, K) default: ck_tile_unreachable("shared", pb, 2); }
// Only NV <= 2 reaches the column-sharing tiles (their channel block is SH_BLOCK = 2 vectors).
#define SHARED_FN(S, K)                                                                                           \
    static void SFX(fwd_shared_p##S##_k##K)(const tile_args *t, const float *src, const float *w, float *out,     \
                                            int pb, int nv, VM m) {                                               \
        if (nv == 1) SH_NV1(S, K) else if (nv == 2) SH_NV2(S, K) else ck_tile_unreachable("shared", pb, nv);      \
    }
SHARED_FN(16, 2) SHARED_FN(32, 2) SHARED_FN(64, 2) SHARED_FN(128, 2)
SHARED_FN(16, 3) SHARED_FN(32, 3) SHARED_FN(64, 3) SHARED_FN(128, 3)

static const int SFX(max_pb_shared)[3] = MAX_PB_SHARED;

static SFX(fwd_tile_fn) SFX(shared_tile_for)(int cin, int kw) {
    if (kw == 2) switch (cin) {
        case 16: return SFX(fwd_shared_p16_k2); case 32: return SFX(fwd_shared_p32_k2);
        case 64: return SFX(fwd_shared_p64_k2); case 128: return SFX(fwd_shared_p128_k2); default: return NULL; }
    if (kw == 3) switch (cin) {
        case 16: return SFX(fwd_shared_p16_k3); case 32: return SFX(fwd_shared_p32_k3);
        case 64: return SFX(fwd_shared_p64_k3); case 128: return SFX(fwd_shared_p128_k3); default: return NULL; }
    return NULL;
}

static const int SFX(max_pb_for_nv)[5] = MAX_PB_FOR_NV;

// One output pixel (a border pixel with a partial set of taps): a tile of width 1 would be one
// FMA dependency chain per vector; four partial sums over ci mod 4 keep the FMA units busy.
INL void SFX(border_pixel_nv)(const tile_args *t, const float *src, const float *w, float *out, const int nv, VM m) {
    VF acc[4][4];
#pragma clang loop unroll(full)
    for (int u = 0; u < 4; u++)
#pragma clang loop unroll(full)
        for (int v = 0; v < nv; v++) acc[u][v] = V_ZERO();
    const int cin = t->cin, cout = t->cout;
    for (int ky = 0; ky < t->nky; ky++) {
        for (int kx = 0; kx < t->nkx; kx++) {
            const float *s = src + (size_t)ky * t->rowstride + (size_t)kx * t->kxstep;
            const float *wt = w + ky * t->wky + kx * t->wkx;
            int ci = 0;
            for (; ci + 4 <= cin; ci += 4) {
#pragma clang loop unroll(full)
                for (int u = 0; u < 4; u++) {
                    VF b = V_SET1(s[(size_t)(ci + u) * t->cstep]);
                    const float *wr = wt + (size_t)(ci + u) * t->wci;
#pragma clang loop unroll(full)
                    for (int v = 0; v < nv; v++) {
                        VF wv = v == nv - 1 ? V_MLOAD(m, wr + VW * v) : V_LOAD(wr + VW * v);
                        acc[u][v] = V_FMA(b, wv, acc[u][v]);
                    }
                }
            }
            for (; ci < cin; ci++) {
                VF b = V_SET1(s[(size_t)ci * t->cstep]);
                const float *wr = wt + (size_t)ci * t->wci;
#pragma clang loop unroll(full)
                for (int v = 0; v < nv; v++) {
                    VF wv = v == nv - 1 ? V_MLOAD(m, wr + VW * v) : V_LOAD(wr + VW * v);
                    acc[0][v] = V_FMA(b, wv, acc[0][v]);
                }
            }
        }
    }
#pragma clang loop unroll(full)
    for (int v = 0; v < nv; v++) {
        VF r = V_ADD(V_ADD(acc[0][v], acc[1][v]), V_ADD(acc[2][v], acc[3][v]));
        if (v == nv - 1) V_MSTORE(out + VW * v, m, r);
        else V_STORE(out + VW * v, r);
    }
}

static void SFX(border_pixel)(const tile_args *t, const float *src, const float *w, float *out, int nv, VM m) {
    switch (nv) {
    case 1: SFX(border_pixel_nv)(t, src, w, out, 1, m); break;
    case 2: SFX(border_pixel_nv)(t, src, w, out, 2, m); break;
    case 3: SFX(border_pixel_nv)(t, src, w, out, 3, m); break;
    default: SFX(border_pixel_nv)(t, src, w, out, 4, m); break;
    }
}


// NHWC straight from the image (a->sx * a->cin must have a specialised tile).
static void SFX(conv1_nhwc)(const conv1 *a) {
    const int cin = a->cin, cout = a->cout, iw = a->iw, sx = a->sx;
    const SFX(fwd_tile_fn) shared_fn = sx == 1 ? SFX(shared_tile_for)(cin, a->kw) : NULL;
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
    // it, output channels go in blocks of 2 vectors (AVX-512: 32 channels, tiles up to 10 pixels
    // wide, each weight vector loaded once per 8-10 FMAs). Blocks of 4 vectors (64 channels)
    // allowed only 4-6 pixels, so every weight vector, streamed from L2 for the deep layers, fed
    // 4-6 FMAs.
    const int coblock = shared_fn ? SH_BLOCK : CO_BLOCK;
    for (int co0 = 0; co0 < cout; co0 += coblock) {
        const int cn = cout - co0 < coblock ? cout - co0 : coblock;
        const int nv = (cn + VW - 1) / VW;
        const VM m = SFX(tail_mask)(cn - VW * (nv - 1));
        const SFX(fwd_tile_fn) shared = nv <= 2 ? shared_fn : NULL;
        const SFX(fwd_tile_fn) tile = shared ? shared : SFX(tile_for_pstep)(sx * cin);
        const int blk = pick_block(oxh - oxl, shared ? SFX(max_pb_shared)[nv] : SFX(max_pb_for_nv)[nv]);
        // Weights: HWIO as given, or packed per SH_BLOCK-channel block for the column-sharing tiles.
        const float *wblock = a->w + co0;
        tile_args t = {iw * cin, cin, 1, cin, cout, 0, 0, (size_t)a->kw * cin * cout, (size_t)cin * cout, a->ystep,
                       (size_t)cout};
        if (shared && a->wpacked) {
            wblock = a->wpacked + (size_t)(co0 / SH_BLOCK) * a->kh * cin * a->kw * SH_BLOCK;
            t.wky = (size_t)cin * a->kw * SH_BLOCK; t.wkx = SH_BLOCK; t.wci = (size_t)a->kw * SH_BLOCK;
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
                        SFX(border_pixel)(&t, xrow + (size_t)(ix0 + kxl) * cin, wrow + (size_t)kxl * t.wkx,
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
static void SFX(conv1_nhwc_padded)(const conv1 *a, float *buf, int clear) {
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
    SFX(conv1_nhwc)(&b);
}

// Row-planar padded copy in buf (sx must be 1 or 2).
static void SFX(conv1_planar)(const conv1 *a, float *buf, int clear) {
    const int cin = a->cin, cout = a->cout;
    const int hp = planar_h(a), wp = planar_w(a);
    place_planar(a->x, a->ih, a->iw, cin, buf, hp, wp, a->pt, a->pl, clear);
    const SFX(fwd_tile_fn) tile = SFX(tile_for_pstep)(a->sx);
    const int rowstride = wp * cin;
    for (int co0 = 0; co0 < cout; co0 += CO_BLOCK) {
        const int cn = cout - co0 < CO_BLOCK ? cout - co0 : CO_BLOCK;
        const int nv = (cn + VW - 1) / VW;
        const VM m = SFX(tail_mask)(cn - VW * (nv - 1));
        const int blk = pick_block(a->ow, SFX(max_pb_for_nv)[nv]);
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
INL void SFX(wgrad_tile)(const conv1 *a, const float *dy, float *dw, int ky, int kx, int ci0, int oyl, int oyh,
                    int oxl, int oxh, const int CB, const int NV, VM m) {
    const int cin = a->cin, cout = a->cout;
    VF acc[16][4];
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++)
            acc[c][v] = v == NV - 1 ? V_MLOAD(m, dw + (size_t)c * cout + VW * v)
                                    : V_LOAD(dw + (size_t)c * cout + VW * v);
    const size_t pstep = (size_t)a->sx * cin;
    for (int oy = oyl; oy < oyh; oy++) {
        const float *s = a->x + ((size_t)(oy * a->sy - a->pt + ky) * a->iw + (oxl * a->sx - a->pl + kx)) * cin + ci0;
        const float *d = dy + ((size_t)oy * a->ow + oxl) * cout;
        for (int ox = oxl; ox < oxh; ox++) {
            VF dv[4];
#pragma clang loop unroll(full)
            for (int v = 0; v < NV; v++)
                dv[v] = v == NV - 1 ? V_MLOAD(m, d + VW * v) : V_LOAD(d + VW * v);
#pragma clang loop unroll(full)
            for (int c = 0; c < CB; c++) {
                VF b = V_SET1(s[c]);
#pragma clang loop unroll(full)
                for (int v = 0; v < NV; v++) acc[c][v] = V_FMA(b, dv[v], acc[c][v]);
            }
            s += pstep;
            d += cout;
        }
    }
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int v = 0; v < NV; v++) {
            if (v == NV - 1) V_MSTORE(dw + (size_t)c * cout + VW * v, m, acc[c][v]);
            else V_STORE(dw + (size_t)c * cout + VW * v, acc[c][v]);
        }
}

#define WG_CASE(C, V) case C: SFX(wgrad_tile)(a, dyp, dwp, ky, kx, ci0, oyl, oyh, oxl, oxh, C, V, m); break;
#define WG_SWITCH(V, ...)                                                                         \
    switch (cb) {                                                                                 \
        CK_UPTO(PB_CAP(V))(WG_CASE, V)                                                            \
        default: ck_tile_unreachable("weight-gradient", cb, V);                                   \
    }

static void SFX(wgrad)(const conv1 *a, const float *dy, float *dw) {
    const int cin = a->cin, cout = a->cout;
    for (int co0 = 0; co0 < cout; co0 += CO_BLOCK) {
        const int cn = cout - co0 < CO_BLOCK ? cout - co0 : CO_BLOCK;
        const int nv = (cn + VW - 1) / VW;
        const VM m = SFX(tail_mask)(cn - VW * (nv - 1));
        // The widest channel block the registers allow, even if the last block is narrower: each
        // pixel costs NV loads + CB broadcasts for CB x NV FMAs (on AVX-512, pick_block's divisor
        // of 64 or 128 was 4 for NV = 4, half a load per FMA). Blocking does not change what each dw
        // element sums, or in which order.
        const int blk = cin < SFX(max_pb_for_nv)[nv] ? cin : SFX(max_pb_for_nv)[nv];
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
                    case 1: WG_SWITCH(1, _) break;
                    case 2: WG_SWITCH(2, _) break;
                    NV34_CASES(WG_SWITCH, _)
                    default: ck_tile_unreachable("weight-gradient", cb, nv);
                    }
                }
            }
        }
    }
}

// Winograd (Lavin & Gray 2015, arXiv 1509.09308): each output tile is
// A^T [(G g G^T) . (B^T d B)] A, d the input patch, g the 3x3 kernel. With the products summed over input channels first, the
// elements e of a tile are independent GEMMs M[e] = V[e] U[e] ([tiles x cin] x [cin x cout]).
// Tiles run in blocks (the V and M blocks stay in L2); each GEMM element sums ci in order with
// the plain register tiles above, and the transforms are fixed per element, so the values depend
// neither on the block size nor on how images are split among threads, nor on the vector width.

// Every pass runs F(4x4, 3x3) (Lavin & Gray, section 4.2: interpolation points 0, 1, -1, 2,
// -2): 36 multiplies per 4x4 outputs, 2.25 per output against F(2x2, 3x3)'s 4. B^T, G and A^T
// are Lavin's; the constant multiplies are FMAs in a fixed order, so every path computes the
// same values.

// V4[e][c, c+VW) of one 6x6 input tile: B^T d B (columns then rows), B^T = [[4, 0, -5, 0, 1, 0],
// [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0], [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0],
// [0, 4, 0, -5, 0, 1]]. Input pixel i (row-major 6x6) is at p[i] + c; e runs estride apart.
INL void SFX(wino4_transform6)(const VF *d, int step, VF *r, int rstep) {
    const VF four = V_SET1(4.0f), five = V_SET1(-5.0f), mfour = V_SET1(-4.0f), two = V_SET1(2.0f);
    const VF x0 = d[0], x1 = d[step], x2 = d[2 * step], x3 = d[3 * step], x4 = d[4 * step], x5 = d[5 * step];
    r[0] = V_FMA(four, x0, V_FMA(five, x2, x4));
    r[rstep] = V_FMA(mfour, V_ADD(x1, x2), V_ADD(x3, x4));
    r[2 * rstep] = V_FMA(four, V_SUB(x1, x2), V_SUB(x4, x3));
    r[3 * rstep] = V_FMA(two, V_SUB(x3, x1), V_SUB(x4, x2));
    r[4 * rstep] = V_FMA(two, V_SUB(x1, x3), V_SUB(x4, x2));
    r[5 * rstep] = V_FMA(four, x1, V_FMA(five, x3, x5));
}

INL void SFX(wino4_input_tile)(const float *const *p, int c, float *v, size_t estride) {
    VF d[36], t[36], q[6];
#pragma clang loop unroll(full)
    for (int i = 0; i < 36; i++) d[i] = V_LOAD(p[i] + c);
#pragma clang loop unroll(full)
    for (int j = 0; j < 6; j++) SFX(wino4_transform6)(d + j, 6, t + j, 6);
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        SFX(wino4_transform6)(t + 6 * r, 1, q, 1);
#pragma clang loop unroll(full)
        for (int k = 0; k < 6; k++) V_STORE(v + (size_t)(6 * r + k) * estride + c, q[k]);
    }
}

// A^T m of six values, A^T = [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0],
// [0, 1, -1, 8, -8, 1]].
INL void SFX(wino4_output4)(const VF *m, int step, VF *y, int ystep) {
    const VF s = V_ADD(m[step], m[2 * step]), d = V_SUB(m[step], m[2 * step]);
    const VF s2 = V_ADD(m[3 * step], m[4 * step]), d2 = V_SUB(m[3 * step], m[4 * step]);
    y[0] = V_ADD(V_ADD(m[0], s), s2);
    y[ystep] = V_FMA(V_SET1(2.0f), d2, d);
    y[2 * ystep] = V_FMA(V_SET1(4.0f), s2, s);
    y[3 * ystep] = V_ADD(V_FMA(V_SET1(8.0f), d2, d), m[5 * step]);
}

// Output pixels of one 4x4 tile for channels [c, c + VW) (lanes outside m untouched): A^T M A,
// columns then rows. o[i] is output pixel i of the tile (row-major) or NULL past the edge.
INL void SFX(wino4_output_tile)(const float *mt, size_t estride, int c, float *const *o, VM m) {
    VF x[36], s[24], y[4];
#pragma clang loop unroll(full)
    for (int e = 0; e < 36; e++) x[e] = V_MLOAD(m, mt + (size_t)e * estride + c);
#pragma clang loop unroll(full)
    for (int j = 0; j < 6; j++) SFX(wino4_output4)(x + j, 6, s + j, 6);
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
        SFX(wino4_output4)(s + 6 * r, 1, y, 1);
#pragma clang loop unroll(full)
        for (int k = 0; k < 4; k++)
            if (o[4 * r + k]) V_MSTORE(o[4 * r + k] + c, m, y[k]);
    }
}

// Where a Winograd 4x4 output tile sits: image n, tile row ty, tile column tx.
typedef struct { int n, ty, tx; } SFX(wino_pos);

// Tile number `tile` counted from image g0 (image by image, row-major within an image).
INL SFX(wino_pos) SFX(wino_locate)(const wino_args *a, int g0, size_t tile) {
    const int tw = (a->ow + 3) / 4, per_image = tw * ((a->oh + 3) / 4);
    const int r = (int)(tile % (size_t)per_image);
    return (SFX(wino_pos)){g0 + (int)(tile / (size_t)per_image), r / tw, r % tw};
}

// The next tile in that order.
INL void SFX(wino_advance)(const wino_args *a, SFX(wino_pos) *q) {
    if (++q->tx < (a->ow + 3) / 4) return;
    q->tx = 0;
    if (++q->ty < (a->oh + 3) / 4) return;
    q->ty = 0;
    q->n++;
}

// The input pixels of the 4x4 output tile at q: the 6x6 patch row-major, pointers into x or at
// a row of zeros for padding taps. Tile (ty, tx) covers output rows 4 ty .. 4 ty + 3 and reads
// input rows 4 ty - pt .. 4 ty - pt + 5. An interior tile (no padding tap: with padding 1,
// 36 of 64 tiles at 32 x 32, 4 of 16 at 16 x 16, none at 8 x 8) takes its pointers as fixed
// steps from its corner, without a bounds test per tap.
INL void SFX(wino_tile_pixels)(const wino_args *a, SFX(wino_pos) q, const float **p) {
    const int cin = a->cin, ih = a->ih, iw = a->iw;
    const int iy0 = 4 * q.ty - a->pt, ix0 = 4 * q.tx - a->pl;
    const float *img = a->x + (size_t)q.n * ih * iw * cin;
    if (iy0 >= 0 && iy0 + 6 <= ih && ix0 >= 0 && ix0 + 6 <= iw) {
        const float *corner = img + ((size_t)iy0 * iw + ix0) * cin;
        const size_t row = (size_t)iw * cin;
        for (int dy = 0; dy < 6; dy++)
            for (int dx = 0; dx < 6; dx++) p[6 * dy + dx] = corner + dy * row + (size_t)dx * cin;
        return;
    }
    for (int dy = 0; dy < 6; dy++) {
        const int iy = iy0 + dy;
        for (int dx = 0; dx < 6; dx++) {
            const int ix = ix0 + dx;
            p[6 * dy + dx] = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? img + ((size_t)iy * iw + ix) * cin : wino_zeros;
        }
    }
}

// The input mostly comes from memory (a layer's activations outgrow the caches) and each pixel
// feeds few multiplies in the transforms, so the new columns of the tile WINO_PREFETCH tiles
// ahead are prefetched.
#define WINO_PREFETCH 4

// V4 of tiles [b0, b0 + nb) of the images from g0 on into v (36 planes of tb x cin, wino_plane
// apart), prefetching the four new columns of the tile WINO_PREFETCH tiles ahead. Each tile's
// pixel pointers are worked out when it is prefetched and kept in a ring until its transform
// (working them out twice per tile was 2.4% of a ResNet-26 w32 training step); only a block's
// first WINO_PREFETCH tiles are worked out twice (the previous block prefetched them).
static void SFX(wino4_input_block)(const wino_args *a, int g0, size_t b0, int nb, size_t tiles, float *v, size_t tb) {
    const int cin = a->cin;
    const float *ring[WINO_PREFETCH + 1][36];
    SFX(wino_pos) ahead = SFX(wino_locate)(a, g0, b0);  // the next tile whose pointers are due
    for (int i = 0; i < WINO_PREFETCH && i < nb; i++) {
        SFX(wino_tile_pixels)(a, ahead, ring[i]);
        SFX(wino_advance)(a, &ahead);
    }
    if (nb < WINO_PREFETCH) ahead = SFX(wino_locate)(a, g0, b0 + WINO_PREFETCH);
    for (int i = 0; i < nb; i++) {
        if (b0 + i + WINO_PREFETCH < tiles) {
            const float **p = ring[(i + WINO_PREFETCH) % (WINO_PREFETCH + 1)];
            SFX(wino_tile_pixels)(a, ahead, p);
            SFX(wino_advance)(a, &ahead);
            for (int k = 0; k < 36; k += 6)
                for (int c = 0; c < cin; c += 16)
                    for (int j = 2; j < 6; j++) __builtin_prefetch(p[k + j] + c);
        }
        const float *const *p = ring[i % (WINO_PREFETCH + 1)];
        for (int c = 0; c < cin; c += VW) SFX(wino4_input_tile)(p, c, v + (size_t)i * cin, wino_plane(tb, cin));
    }
}

// Images [n0, n1) of a 3x3 stride-1 convolution (ck_winograd_supported) by F(4x4, 3x3), with the
// transformed weights u (ck_winograd4_weights: [36][block][cin][WINO_CO_BLOCK]).
static void SFX(winograd)(const wino_args *a) {
    const int cin = a->cin, cout = a->cout, oh = a->oh, ow = a->ow;
    const int tw = (ow + 3) / 4, th = (oh + 3) / 4, per_image = tw * th;
    const size_t tb = (size_t)wino4_block_tiles(cin, cout);
    const size_t vplane = wino_plane(tb, cin), mplane = wino_plane(tb, cout);
    float *v = scratch(36 * vplane), *mm = scratch(36 * mplane);
    const int cblocks = (cout + WINO_CO_BLOCK - 1) / WINO_CO_BLOCK;
    const size_t ublock = (size_t)cin * WINO_CO_BLOCK;
    const float *up = a->u;
    const SFX(fwd_tile_fn) gemm = SFX(tile_for_pstep)(cin);
    const tile_args t = {0, 0, 1, cin, cout, 1, 1, 0, 0, (size_t)cout, (size_t)WINO_CO_BLOCK};
    const size_t out_image = (size_t)oh * ow * cout;
    // Images go in groups of about one block of tiles, so the epilogue meets the group's
    // output while it is still in cache.
    const int group = per_image >= (int)tb ? 1 : (int)tb / per_image;
    for (int g0 = a->n0; g0 < a->n1; g0 += group) {
        const int g1 = a->n1 - g0 < group ? a->n1 : g0 + group;
        const size_t tiles = (size_t)(g1 - g0) * per_image;
        for (size_t b0 = 0; b0 < tiles; b0 += tb) {
            const int nb = (int)(tiles - b0 < tb ? tiles - b0 : tb);
            SFX(wino4_input_block)(a, g0, b0, nb, tiles, v, tb);
            for (int e = 0; e < 36; e++) {
                for (int co0 = 0; co0 < cout; co0 += WINO_CO_BLOCK) {
                    const int cn = cout - co0 < WINO_CO_BLOCK ? cout - co0 : WINO_CO_BLOCK;
                    const int nv = (cn + VW - 1) / VW;
                    const VM m = SFX(tail_mask)(cn - VW * (nv - 1));
                    const int blk = WINO_FULL_TILES ? SFX(max_pb_for_nv)[nv] : pick_block(nb, SFX(max_pb_for_nv)[nv]);
                    const float *ue = up + ((size_t)e * cblocks + co0 / WINO_CO_BLOCK) * ublock;
                    for (int i = 0; i < nb; i += blk) {
                        const int pb = nb - i < blk ? nb - i : blk;
                        gemm(&t, v + e * vplane + (size_t)i * cin, ue, mm + e * mplane + (size_t)i * cout + co0, pb, nv, m);
                    }
                }
            }
            for (int i = 0; i < nb; i++) {
                const size_t tile = b0 + i;
                const int n = g0 + (int)(tile / per_image), r = (int)(tile % per_image);
                const int ty = r / tw, tx = r % tw;
                float *img = a->y + (size_t)n * out_image;
                float *o[16];
                for (int k = 0; k < 16; k++) {
                    const int oy = 4 * ty + k / 4, ox = 4 * tx + k % 4;
                    o[k] = oy < oh && ox < ow ? img + ((size_t)oy * ow + ox) * cout : NULL;
                }
                for (int c = 0; c < cout; c += VW)
                    SFX(wino4_output_tile)(mm + (size_t)i * cout, mplane, c, o, SFX(tail_mask)(cout - c));
            }
        }
        if (a->epilogue)
            ck_epilogue_rows(a->epilogue, a->y, (size_t)cout, (size_t)g0 * oh * ow, (size_t)g1 * oh * ow);
    }
    free(v);
    free(mm);
}

// A of four values, the transpose of the forward's A^T: [d0, d0 + d1 + d2 + d3,
// d0 - d1 + d2 - d3, d0 + 2 d1 + 4 d2 + 8 d3, d0 - 2 d1 + 4 d2 - 8 d3, d3].
INL void SFX(wino4_gradient6)(const VF *d, int step, VF *z, int zstep) {
    const VF d0 = d[0], d1 = d[step], d2 = d[2 * step], d3 = d[3 * step];
    const VF s = V_ADD(d0, d2), t = V_ADD(d1, d3);
    const VF s4 = V_FMA(V_SET1(4.0f), d2, d0), t8 = V_FMA(V_SET1(8.0f), d3, V_ADD(d1, d1));
    z[0] = d0;
    z[zstep] = V_ADD(s, t);
    z[2 * zstep] = V_SUB(s, t);
    z[3 * zstep] = V_ADD(s4, t8);
    z[4 * zstep] = V_SUB(s4, t8);
    z[5 * zstep] = d3;
}

// Z[e][c, c+VW) of one 4x4 tile of the output gradient: A dY A^T (6x6 from 4x4), columns then
// rows, e = 6 row + column as in V and U. o[i] + c is dY's pixel i of the tile (row-major; a
// row of zeros past the edge); lanes outside m are not stored.
INL void SFX(wino4_gradient_tile)(const float *const *o, int c, float *z, size_t estride, VM m) {
    VF d[16], w[24], q[6];
#pragma clang loop unroll(full)
    for (int i = 0; i < 16; i++) d[i] = V_MLOAD(m, o[i] + c);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++) SFX(wino4_gradient6)(d + j, 4, w + j, 4);
#pragma clang loop unroll(full)
    for (int r = 0; r < 6; r++) {
        SFX(wino4_gradient6)(w + 4 * r, 1, q, 1);
#pragma clang loop unroll(full)
        for (int k = 0; k < 6; k++) V_MSTORE(z + (size_t)(6 * r + k) * estride + c, m, q[k]);
    }
}

// du[ci0 + c][co] += sum over the nb tiles t of v[t][ci0 + c] * z[t][co]: CB input channels x
// NV output-channel vectors in registers, the tiles summed in order.
INL void SFX(wino_wgrad_tile)(const float *v, const float *z, float *du, int cin, int cout, int nb,
                              const int CB, const int NV, VM m) {
    VF acc[16][4];
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int k = 0; k < NV; k++)
            acc[c][k] = k == NV - 1 ? V_MLOAD(m, du + (size_t)c * cout + VW * k) : V_LOAD(du + (size_t)c * cout + VW * k);
    for (int t = 0; t < nb; t++) {
        VF zv[4];
#pragma clang loop unroll(full)
        for (int k = 0; k < NV; k++) zv[k] = k == NV - 1 ? V_MLOAD(m, z + VW * k) : V_LOAD(z + VW * k);
#pragma clang loop unroll(full)
        for (int c = 0; c < CB; c++) {
            VF b = V_SET1(v[c]);
#pragma clang loop unroll(full)
            for (int k = 0; k < NV; k++) acc[c][k] = V_FMA(b, zv[k], acc[c][k]);
        }
        v += cin;
        z += cout;
    }
#pragma clang loop unroll(full)
    for (int c = 0; c < CB; c++)
#pragma clang loop unroll(full)
        for (int k = 0; k < NV; k++) {
            if (k == NV - 1) V_MSTORE(du + (size_t)c * cout + VW * k, m, acc[c][k]);
            else V_STORE(du + (size_t)c * cout + VW * k, acc[c][k]);
        }
}

#define WW_CASE(C, V) case C: SFX(wino_wgrad_tile)(vp, zp, dup, cin, cout, nb, C, V, m); break;
#define WW_SWITCH(V, ...)                                                                         \
    switch (cb) {                                                                                 \
        CK_UPTO(PB_CAP(V))(WW_CASE, V)                                                            \
        default: ck_tile_unreachable("Winograd weight-gradient", cb, V);                          \
    }

// The output-gradient pixels of 4x4 tile number `tile` counted from image a->n0: the tile
// row-major, pointers into a->dy or at `zeros` past the edge.
static void SFX(wino4_dy_pixels)(const wino_args *a, size_t tile, const float *zeros, const float **o) {
    const int cout = a->cout, oh = a->oh, ow = a->ow, tw = (ow + 3) / 4, per_image = tw * ((oh + 3) / 4);
    const int n = a->n0 + (int)(tile / (size_t)per_image), r = (int)(tile % (size_t)per_image);
    const int ty = r / tw, tx = r % tw;
    const float *img = a->dy + (size_t)n * oh * ow * cout;
    for (int k = 0; k < 16; k++) {
        const int oy = 4 * ty + k / 4, ox = 4 * tx + k % 4;
        o[k] = oy < oh && ox < ow ? img + ((size_t)oy * ow + ox) * cout : zeros;
    }
}

// The weight gradient of images [n0, n1) by Winograd F(4x4, 3x3): du ([36][cin][cout], zeroed
// by the caller) += sum over tiles of V[e]^T Z[e], V = B^T d B of the input and Z = A dY A^T of
// the output gradient a->dy: the adjoint of the forward pass (dW = G^T du G,
// ck_conv_backward_weight_winograd). Each du element sums the tiles in their order (image, then
// row-major). Per output pixel 2.25 multiplies per (ci, co) against F(2x2, 3x3)'s 4.
static void SFX(winograd_wgrad)(const wino_args *a, float *du) {
    const int cin = a->cin, cout = a->cout, oh = a->oh, ow = a->ow;
    const int tw = (ow + 3) / 4, per_image = tw * ((oh + 3) / 4);
    const size_t tb = (size_t)wino4_block_tiles(cin, cout);
    const size_t vplane = wino_plane(tb, cin), zplane = wino_plane(tb, cout);
    float *v = scratch(36 * vplane), *z = scratch(36 * zplane), *zeros = scratch((size_t)cout);
    memset(zeros, 0, (size_t)cout * sizeof(float));
    const size_t tiles = (size_t)(a->n1 - a->n0) * per_image;
    for (size_t b0 = 0; b0 < tiles; b0 += tb) {
        const int nb = (int)(tiles - b0 < tb ? tiles - b0 : tb);
        SFX(wino4_input_block)(a, a->n0, b0, nb, tiles, v, tb);
        // dy comes from memory too (its loads stalled the F(2x2) transform: 15% of the
        // function's samples on one line, 2% with the prefetch; perf annotate, 16 channels);
        // pointers kept in a ring as in wino4_input_block.
        const float *ring[WINO_PREFETCH + 1][16];
        for (int i = 0; i < WINO_PREFETCH && i < nb; i++) SFX(wino4_dy_pixels)(a, b0 + i, zeros, ring[i]);
        for (int i = 0; i < nb; i++) {
            if (b0 + i + WINO_PREFETCH < tiles) {
                const float **p = ring[(i + WINO_PREFETCH) % (WINO_PREFETCH + 1)];
                SFX(wino4_dy_pixels)(a, b0 + i + WINO_PREFETCH, zeros, p);
                for (int k = 0; k < 16; k++)
                    for (int c = 0; c < cout; c += 16) __builtin_prefetch(p[k] + c);
            }
            const float *const *o = ring[i % (WINO_PREFETCH + 1)];
            for (int c = 0; c < cout; c += VW)
                SFX(wino4_gradient_tile)(o, c, z + (size_t)i * cout, zplane, SFX(tail_mask)(cout - c));
        }
        for (int e = 0; e < 36; e++) {
            for (int co0 = 0; co0 < cout; co0 += WINO_CO_BLOCK) {
                const int cn = cout - co0 < WINO_CO_BLOCK ? cout - co0 : WINO_CO_BLOCK;
                const int nv = (cn + VW - 1) / VW;
                const VM m = SFX(tail_mask)(cn - VW * (nv - 1));
                const int blk = cin < SFX(max_pb_for_nv)[nv] ? cin : SFX(max_pb_for_nv)[nv];
                for (int ci0 = 0; ci0 < cin; ci0 += blk) {
                    const int cb = cin - ci0 < blk ? cin - ci0 : blk;
                    const float *vp = v + e * vplane + ci0, *zp = z + e * zplane + co0;
                    float *dup = du + ((size_t)e * cin + ci0) * cout + co0;
                    switch (nv) {
                    case 1: WW_SWITCH(1, _) break;
                    case 2: WW_SWITCH(2, _) break;
                    NV34_CASES(WW_SWITCH, _)
                    default: ck_tile_unreachable("Winograd weight-gradient", cb, nv);
                    }
                }
            }
        }
    }
    free(v);
    free(z);
    free(zeros);
}

static int SFX(has_shared_tile)(int cin, int kw) { return SFX(shared_tile_for)(cin, kw) != NULL; }

/// This width's entry points, for kernels.c's dispatch.
const simd_kernels SFX(ck_simd) = {SFX(conv1_nhwc), SFX(conv1_nhwc_padded), SFX(conv1_planar), SFX(wgrad),
                                          SFX(has_shared_tile), SH_BLOCK, SFX(winograd),
                                          SFX(winograd_wgrad), WINO_CO_BLOCK};

#pragma clang attribute pop
#undef SFX
#undef VW
#undef VF
#undef VM
#undef V_ZERO
#undef V_LOAD
#undef V_MLOAD
#undef V_STORE
#undef V_MSTORE
#undef V_SET1
#undef V_FMA
#undef V_ADD
#undef V_SUB
#undef MAX_PB_FOR_NV
#undef MAX_PB_SHARED
#undef PB_NV1
#undef PB_NV2
#undef PB_NV3
#undef PB_NV4
#undef SH_PB_NV1
#undef SH_PB_NV2
#undef PB_CAP
#undef NV34_CASES
#undef WINO_CO_BLOCK
#undef WINO_FULL_TILES
#undef CO_BLOCK
#undef SH_BLOCK
#undef FWD_CASE
#undef FWD_SWITCH
#undef FWD_TILE_FN
#undef SH
#undef SH_NV1
#undef SH_NV2
#undef SHARED_FN
#undef WG_CASE
#undef WG_SWITCH
#undef WW_CASE
#undef WW_SWITCH
#undef WINO_PREFETCH
