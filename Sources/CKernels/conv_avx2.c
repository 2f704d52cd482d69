// The vector kernels (conv_tiles.h) at 8 floats per vector (AVX2 + FMA), in a file of their own so
// the two widths compile in parallel.
#include "conv_internal.h"
#if CK_X86
#define CKW 8
#include "conv_tiles.h"
#endif
