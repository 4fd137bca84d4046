// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * px_platform.h for user space: the simulator, the unit tests and the
 * benchmark daemon link this file with kmod/core/.
 */
#include <stdlib.h>

#include "../../kmod/core/px_platform.h"

void *px_alloc(size_t size)
{
	return malloc(size ? size : 1);
}

void px_free(void *ptr)
{
	free(ptr);
}
