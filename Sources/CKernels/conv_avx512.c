// The vector kernels (conv_tiles.h) at 16 floats per vector (AVX-512), in a file of their own so
// the two widths compile in parallel.
#include "conv_internal.h"
#if CK_X86
#define CKW 16
#include "conv_tiles.h"
#endif
