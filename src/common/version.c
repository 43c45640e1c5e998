// SPDX-License-Identifier: MIT
/* version.c - the version string the Makefile generated (build/gen_version.h). */
#include "common/version.h"
#include "gen_version.h"

const char *version__string(void)
{
	return MEMTRACE_VERSION;
}
