// The engine's kernel path: which vector width its C kernels run at, from CPUID or ENGINE_ISA.
// A module of its own so that code which only needs to know the path (the weaver records it
// with every result) does not compile the kernels.
#include "CKernelPath.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#define CK_X86 1
#endif

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

static int cpu_has_avx2(void) {
#if CK_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return 0;
#endif
}

int ck_isa_supported(int isa) {
    switch (isa) {
    case CK_ISA_PORTABLE: return 1;
    case CK_ISA_AVX512: return cpu_has_avx512();
    case CK_ISA_AVX2: return cpu_has_avx2();
    default: return 0;
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

int ck_isa_best(void) {
    return ck_isa_supported(CK_ISA_AVX512) ? CK_ISA_AVX512
        : ck_isa_supported(CK_ISA_AVX2) ? CK_ISA_AVX2 : CK_ISA_PORTABLE;
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
        isa = ck_isa_best();
    }
    g_isa = isa;
    return isa;
}
