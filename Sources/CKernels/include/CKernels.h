#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>

/// Version of the kernel set (bumped when numerics change).
int ck_version(void);

/// 1 when the AVX-512 kernels are in use (CPU has AVX-512 F/BW/DQ/VL and FMA), else 0.
int ck_uses_avx512(void);

/// A dense (groups == 1) 2-D convolution over NHWC input with HWIO weights [kh, kw, cin, cout].
/// `portable` != 0 selects the portable kernels even on AVX-512 CPUs (tests compare both).
typedef struct {
    int n, h, w, cin, cout, kh, kw, sh, sw, pt, pl, pb, pr;
    int portable;
} ck_conv_geom;

static inline int ck_out_h(const ck_conv_geom *g) { return (g->h + g->pt + g->pb - g->kh) / g->sh + 1; }
static inline int ck_out_w(const ck_conv_geom *g) { return (g->w + g->pl + g->pr - g->kw) / g->sw + 1; }

/// y = conv(x, w) for images [n0, n1) (y overwritten). x, y point at image 0.
void ck_conv_forward(const ck_conv_geom *g, const float *x, const float *w, float *y, int n0, int n1);

/// wflip[ky][kx][co][ci] = w[kh-1-ky][kw-1-kx][ci][co]: the weights of the transposed convolution.
void ck_conv_flip_weights(const ck_conv_geom *g, const float *w, float *wflip);

/// dx = conv^T(dy, w) for images [n0, n1) (dx overwritten), given wflip from ck_conv_flip_weights.
void ck_conv_backward_input(const ck_conv_geom *g, const float *dy, const float *wflip, float *dx, int n0, int n1);

/// dw += sum over images [n0, n1) of the weight gradient (dw is [kh, kw, cin, cout]).
void ck_conv_backward_weight(const ck_conv_geom *g, const float *x, const float *dy, float *dw, int n0, int n1);

#endif
