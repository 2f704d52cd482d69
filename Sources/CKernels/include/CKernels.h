#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
/// Version of the kernel set (bumped when numerics change).
int ck_version(void);
#endif
