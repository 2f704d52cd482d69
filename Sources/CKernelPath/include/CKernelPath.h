#ifndef CKERNELPATH_H
#define CKERNELPATH_H
#include <stddef.h>

/// Kernel paths ("instruction set architectures"): each C kernel has one implementation per path.
typedef enum { CK_ISA_PORTABLE = 0, CK_ISA_AVX2 = 1, CK_ISA_AVX512 = 2 } ck_isa_t;

/// 1 when this CPU (and this build) can run `isa`'s kernels, else 0. AVX-512 needs F/BW/DQ/VL
/// and FMA; the portable path runs everywhere.
int ck_isa_supported(int isa);

/// "portable", "avx2" or "avx512"; NULL for an unknown value.
const char *ck_isa_name(int isa);

/// Parses `ENGINE_ISA`-style text. Returns the path (>= 0), -1 for an unknown name, -2 when the
/// CPU cannot run it; on failure writes a one-line explanation into `err` (if non-NULL).
int ck_isa_parse(const char *text, char *err, size_t errlen);

/// The best path this CPU runs, ignoring `ENGINE_ISA`: AVX-512, else AVX2, else portable.
int ck_isa_best(void);

/// The path every kernel call takes in this process: the one `ENGINE_ISA` names, else the best
/// the CPU supports. Decided once, on first use. A bad `ENGINE_ISA` prints the reason on stderr
/// and exits with status 2 (programs validate it first, with `ck_isa_parse`, to fail cleanly).
int ck_isa(void);

#endif
