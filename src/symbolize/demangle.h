/* SPDX-License-Identifier: MIT */
/*
 * demangle.h - readable names for C++ and Rust symbols.
 *
 * C++ (Itanium ABI) goes through libstdc++'s __cxa_demangle, loaded with
 * dlopen so that memtrace links without -lstdc++. Rust legacy names
 * (_ZN...17h<hash>E) are demangled here, hash dropped. Rust v0 names (_R)
 * need libiberty's rust_demangle, found in binutils' libbfd when present.
 */
#ifndef MEMTRACE_DEMANGLE_H
#define MEMTRACE_DEMANGLE_H

#include <stdbool.h>

/*
 * Demangle one symbol name. Returns a malloc'd readable name that the
 * caller frees, or NULL when name is not mangled, is malformed, or no
 * demangler for its scheme is available (errno: EINVAL not mangled or
 * malformed, ENOSYS no demangler, ENOMEM).
 */
char *demangle__name(const char *name);

/* Whether C++ names can be demangled (libstdc++ found). Cannot fail. */
bool demangle__has_cxx(void);

/* Whether Rust v0 (_R) names can be demangled (libiberty found). */
bool demangle__has_rust_v0(void);

#endif /* MEMTRACE_DEMANGLE_H */
