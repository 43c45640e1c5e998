/* SPDX-License-Identifier: MIT */
/*
 * version.h - the version of this build of memtrace.
 *
 * Stage common. The string comes from the Makefile (mk/version.mk:
 * tools/version.sh, or VERSION=... on the make command line), compiled into
 * version.c only, so a new version relinks without recompiling the rest.
 */
#ifndef MEMTRACE_VERSION_H
#define MEMTRACE_VERSION_H

/*
 * The version, e.g. "0.1.0" or "0.1.0+gabc1234.dirty": what --version prints,
 * JSON reports carry as "version" and /metrics as memtrace_build_info.
 * Static storage, never NULL; cannot fail.
 */
const char *version__string(void);

#endif
