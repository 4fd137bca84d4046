// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * paxosctl down
 */
#include <string.h>

#include "paxosctl.h"

int cmd_down(int argc, char **argv)
{
	struct pxc_nl *nl;
	int err;

	if (argc == 2 && (!strcmp(argv[1], "-h") ||
			  !strcmp(argv[1], "--help")))
		return pxc_help("down"), PXC_OK;
	if (argc != 1)
		return pxc_usage("down");
	err = pxc_nl_open(&nl, false);
	if (err)
		return PXC_ERR;
	err = pxc_nl_down(nl);
	pxc_nl_close(nl);
	return err ? PXC_ERR : PXC_OK;
}
