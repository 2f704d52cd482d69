// Direct convolution kernels for NHWC activations and HWIO weights.
//
// Small channel counts (16-64, the CIFAR ResNets) make im2col + sgemm inefficient: the GEMMs are
// thin (N = cout = 16..64, K = 9 * cin) and im2col/col2im move 9x the activations through memory.
// These kernels compute the convolution directly, one image at a time, vectorised over output
// channels (16 floats = one zmm register on AVX-512, 8 = one ymm on AVX2); a tile of PB output
// pixels x NV channel vectors accumulates in registers. Zero padding is a padded copy of one image at a time (NHWC for the
// specialised channel counts, row-planar for the others), so whole rows run as register tiles.
//
// The vector kernels are written once (conv_tiles.h) and compiled for AVX-512 and for AVX2 + FMA
// (conv_avx512.c, conv_avx2.c); the path is chosen at run time (ck_isa: CPUID, or ENGINE_ISA),
// and a portable C version runs anywhere (any x86-64, arm64). The arithmetic order of each output element is
// fixed by the code (no threading inside): results are deterministic.
#include "conv_internal.h"

int ck_version(void) { return 2; }

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


// The vector kernels of a path (-1: the process's, ck_isa), or NULL for the portable ones.
static const simd_kernels *simd_for(int isa) {
#if CK_X86
    switch (isa < 0 ? ck_isa() : isa) {
    case CK_ISA_AVX512: return &ck_simd_avx512;
    case CK_ISA_AVX2: return &ck_simd_avx2;
    default: return NULL;
    }
#else
    (void)isa;
    return NULL;
#endif
}

enum { PATH_PORTABLE = 0, PATH_PLANAR = 1, PATH_NHWC = 2, PATH_NHWC_PADDED = 3 };

// Whether some output pixel of a conv1 has a tap outside the image (a zero-padding tap).
static int has_border(const conv1 *a) {
    return a->pt > 0 || a->pl > 0 || (a->oh - 1) * a->sy - a->pt + a->kh > a->ih
        || (a->ow - 1) * a->sx - a->pl + a->kw > a->iw;
}

// Which kernel a convolution runs on: the vector kernels straight from NHWC when sx*cin is a
// specialised step, on a row-planar padded copy for other strides 1 and 2, else portable.
static int path_for(const conv1 *a) {
    if (!simd_for(a->isa)) return PATH_PORTABLE;
    const int step = a->sx * a->cin;
    if (step == 16 || step == 32 || step == 64 || step == 128) return has_border(a) && a->pt >= 0 && a->pl >= 0 ? PATH_NHWC_PADDED : PATH_NHWC;
    if (a->sx == 1 || a->sx == 2) return PATH_PLANAR;
    return PATH_PORTABLE;
}

// Runs one image; buf is scratch of planar_h * planar_w * cin floats when the path is planar.
static void conv1_run(const conv1 *a, float *buf, int first) {
    const simd_kernels *k = simd_for(a->isa);
    switch (path_for(a)) {
    case PATH_NHWC: k->nhwc(a); return;
    case PATH_NHWC_PADDED: k->nhwc_padded(a, buf, first); return;
    case PATH_PLANAR: k->planar(a, buf, first); return;
    default: conv1_portable(a); return;
    }
}

static float *conv1_scratch(const conv1 *a) {
    const int path = path_for(a);
    return path == PATH_PLANAR || path == PATH_NHWC_PADDED ? scratch((size_t)planar_h(a) * planar_w(a) * a->cin) : NULL;
}

// Weights packed for the column-sharing tiles, which take output channels B = 2 vectors at a
// time (32 on AVX-512, 16 on AVX2): per block, [ky][ci][kx][B] (a short last block
// zero-padded). A tile's weights for one (ky, ci) are then 3 x B consecutive floats and a block
// streams through in order; in HWIO they were 2 of every 8 cache lines at a stride of cout
// floats, the kx columns cin x cout floats apart, and the loads stalled on L2 (the hottest
// instructions of a ResNet-26 inference profile). Same values, same order of operations: only
// where the weights are read from changes.
static float *conv1_pack(const conv1 *a) {
    const simd_kernels *k = simd_for(a->isa);
    const int path = path_for(a);
    if (!k || (path != PATH_NHWC && path != PATH_NHWC_PADDED) || a->sx != 1 || !k->has_shared_tile(a->cin, a->kw))
        return NULL;
    const int B = k->pack_block;
    const int cin = a->cin, cout = a->cout, kh = a->kh, kw = a->kw, blocks = (cout + B - 1) / B;
    float *p = scratch((size_t)blocks * kh * cin * kw * B);
    float *o = p;
    for (int b = 0; b < blocks; b++)
        for (int ky = 0; ky < kh; ky++)
            for (int ci = 0; ci < cin; ci++)
                for (int kx = 0; kx < kw; kx++) {
                    const float *src = a->w + ((size_t)(ky * kw + kx) * cin + ci) * cout + b * B;
                    for (int j = 0; j < B; j++) *o++ = b * B + j < cout ? src[j] : 0;
                }
    return p;
}

void ck_conv_forward(const ck_conv_geom *g, const float *x, const float *w, float *y, int n0, int n1,
                     const ck_epilogue *epilogue) {
    const int oh = ck_out_h(g), ow = ck_out_w(g);
    conv1 a = {x, g->h, g->w, g->cin, g->pt, g->pl, w, g->cout, g->kh, g->kw, g->sh, g->sw,
               y, oh, ow, (size_t)g->cout, (size_t)ow * g->cout, g->isa};
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
                       dx, na, nb, (size_t)sw * cin, (size_t)sh * g->w * cin, g->isa};
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
               NULL, oh, ow, 0, 0, g->isa};
    for (int n = n0; n < n1; n++) {
        a.x = x + (size_t)n * g->h * g->w * g->cin;
        const float *dyn = dy + (size_t)n * oh * ow * g->cout;
        const simd_kernels *k = simd_for(g->isa);
        if (k) k->wgrad(&a, dyn, dw);
        else wgrad_portable(&a, dyn, dw);
    }
}

int ck_winograd_supported(const ck_conv_geom *g) {
    const int c = g->cin;
    return simd_for(g->isa) != NULL && g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1
        && (c == 16 || c == 32 || c == 64 || c == 128) && g->cout > 0;
}

// U of F(4x4, 3x3) is packed per block of B output channels (B = the path's wino_block):
// [36][block][cin][B], a short last block zero-padded, so a GEMM's weights are one contiguous
// run. In [36][cin][cout] they sat cout floats apart, and at cout 128 (512 bytes) a block's 128
// rows fell into 8 of L1's 64 sets, which hold 64 lines.
static int wino4_pack_block(const ck_conv_geom *g) {
    const simd_kernels *k = simd_for(g->isa);
    return k ? k->wino_block : 0;
}

size_t ck_winograd4_weights_count(const ck_conv_geom *g) {
    const int b = wino4_pack_block(g);
    return b ? 36 * (size_t)((g->cout + b - 1) / b) * g->cin * b : 0;
}

// G g G^T per (ci, co) for F(4x4, 3x3), G = [[1/4, 0, 0], [-1/6, -1/6, -1/6], [-1/6, 1/6, -1/6],
// [1/24, 1/12, 1/6], [1/24, -1/12, 1/6], [0, 0, 1]]: columns (along kx) first, then rows.
// g6_row applies G to n <= 64 output channels at once (the innermost loops run over the
// channels, contiguous in HWIO and in u's blocks, so they vectorise: the divisions were most of
// the time as one scalar (ci, co) at a time); per element the expressions are unchanged.
#define WINO4_MAX_BLOCK 64
static void g6_row(const float *a, const float *b, const float *c, float (*r)[WINO4_MAX_BLOCK], int n) {
    for (int j = 0; j < n; j++) {
        r[0][j] = a[j] / 4;
        r[1][j] = -(a[j] + b[j] + c[j]) / 6;
        r[2][j] = -(a[j] - b[j] + c[j]) / 6;
        r[3][j] = a[j] / 24 + b[j] / 12 + c[j] / 6;
        r[4][j] = a[j] / 24 - b[j] / 12 + c[j] / 6;
        r[5][j] = c[j];
    }
}

void ck_winograd4_weights(const ck_conv_geom *g, const float *w, float *u) {
    const int cin = g->cin, cout = g->cout, b = wino4_pack_block(g);
    if (!b) return;
    if (b > WINO4_MAX_BLOCK) ck_tile_unreachable("Winograd weight transform", b, WINO4_MAX_BLOCK);
    const size_t plane = (size_t)cin * cout, block = (size_t)cin * b, cblocks = (size_t)(cout + b - 1) / b;
    memset(u, 0, ck_winograd4_weights_count(g) * sizeof(float));
    float t[18][WINO4_MAX_BLOCK], e36[36][WINO4_MAX_BLOCK];
    for (int ci = 0; ci < cin; ci++)
        for (int co0 = 0; co0 < cout; co0 += b) {
            const int n = cout - co0 < b ? cout - co0 : b;
            const float *src = w + (size_t)ci * cout + co0;  // tap i at src + i * plane
            // Along kx within each kernel row r, then along ky (t's element j of the three rows).
            for (int r = 0; r < 3; r++)
                g6_row(src + (size_t)(3 * r) * plane, src + (size_t)(3 * r + 1) * plane, src + (size_t)(3 * r + 2) * plane,
                       t + 6 * r, n);
            for (int j = 0; j < 6; j++) g6_row(t[j], t[6 + j], t[12 + j], e36 + 6 * j, n);
            // e36 is column-major here (6 * column + row): element e = 6 * row + column.
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 6; c++) {
                    float *dst = u + ((size_t)(6 * r + c) * cblocks + (size_t)co0 / b) * block + (size_t)ci * b;
                    for (int j = 0; j < n; j++) dst[j] = e36[6 * c + r][j];
                }
        }
}

int ck_conv_forward_winograd(const ck_conv_geom *g, const float *x, const float *u, float *y, int n0, int n1,
                             const ck_epilogue *epilogue) {
    if (!ck_winograd_supported(g)) return -1;
#if CK_X86
    const wino_args a = {x, g->h, g->w, g->cin, g->pt, g->pl, u, g->cout, y, ck_out_h(g), ck_out_w(g), n0, n1, epilogue, NULL};
    simd_for(g->isa)->winograd(&a);
    return 0;
#else
    (void)x; (void)u; (void)y; (void)n0; (void)n1; (void)epilogue;
    return -1;
#endif
}

// G^T of six values (G of ck_winograd4_weights): [u0/4 - u1/6 - u2/6 + u3/24 + u4/24,
// -u1/6 + u2/6 + u3/12 - u4/12, -u1/6 - u2/6 + u3/6 + u4/6 + u5], the adjoint of g6_row.
// Multiplies by the rounded reciprocals (divisions were 3% of a ResNet-26 w32 training step:
// this runs per (ci, co) for each of the 8 image chunks).
#if CK_X86
static inline void gt6(const float *u, size_t step, float *r, size_t rstep) {
    const float sixth = 1.0f / 6, twelfth = 1.0f / 12, twentyfourth = 1.0f / 24;
    const float s12 = u[step] + u[2 * step], d21 = u[2 * step] - u[step];
    const float s34 = u[3 * step] + u[4 * step], d34 = u[3 * step] - u[4 * step];
    r[0] = u[0] * 0.25f - s12 * sixth + s34 * twentyfourth;
    r[rstep] = d21 * sixth + d34 * twelfth;
    r[2 * rstep] = (s34 - s12) * sixth + u[5 * step];
}
#endif

int ck_conv_backward_weight_winograd(const ck_conv_geom *g, const float *x, const float *dy, float *dw, int n0, int n1) {
    if (!ck_winograd_supported(g)) return -1;
#if CK_X86
    const size_t plane = (size_t)g->cin * g->cout;
    float *du = scratch(36 * plane);
    memset(du, 0, 36 * plane * sizeof(float));
    const wino_args a = {x, g->h, g->w, g->cin, g->pt, g->pl, NULL, g->cout, NULL, ck_out_h(g), ck_out_w(g), n0, n1, NULL, dy};
    simd_for(g->isa)->winograd_wgrad(&a, du);
    // dw += G^T du G per (ci, co): along the columns (kx) of each of du's six rows, then along
    // the rows (ky): the adjoint of ck_winograd4_weights' G g G^T.
    for (size_t k = 0; k < plane; k++) {
        float u[36], t[18];
        for (int i = 0; i < 36; i++) u[i] = du[(size_t)i * plane + k];
        for (int r = 0; r < 6; r++) gt6(u + 6 * r, 1, t + 3 * r, 1);
        for (int j = 0; j < 3; j++) {
            float o[3];
            gt6(t + j, 3, o, 1);
            for (int i = 0; i < 3; i++) dw[(size_t)(3 * i + j) * plane + k] += o[i];
        }
    }
    free(du);
    return 0;
#else
    (void)x; (void)dy; (void)dw; (void)n0; (void)n1;
    return -1;
#endif
}
