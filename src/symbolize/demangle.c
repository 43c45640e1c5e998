// SPDX-License-Identifier: MIT
/* demangle.c - C++ through __cxa_demangle, Rust legacy here, Rust v0 via libiberty. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <glob.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "symbolize/demangle.h"

typedef char *(*cxa_demangle_fn)(const char *name, char *buf, size_t *len, int *status);
typedef char *(*rust_demangle_fn)(const char *name, int options);

#define DMGL_PARAMS	(1 << 0)	/* libiberty's demangle.h */
#define DMGL_ANSI	(1 << 1)

static pthread_once_t cxx_once = PTHREAD_ONCE_INIT;
static pthread_once_t rust_once = PTHREAD_ONCE_INIT;
static cxa_demangle_fn cxa_demangle;
static rust_demangle_fn rust_v0_demangle;

/* The handles stay open for the life of the process, on purpose. */
static void load_cxx(void)
{
	void *h, *f = dlsym(RTLD_DEFAULT, "__cxa_demangle");

	if (!f) {
		h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_LOCAL);
		if (h)
			f = dlsym(h, "__cxa_demangle");
	}
	cxa_demangle = (cxa_demangle_fn)f;
}

/* libiberty is static-only on Debian; binutils' libbfd carries a copy. */
static void load_rust(void)
{
	static const char *const pats[] = {
		"/usr/lib/*-linux-gnu*/libbfd*.so", "/usr/lib64/libbfd*.so",
		"/usr/lib/libbfd*.so",
	};
	void *f = dlsym(RTLD_DEFAULT, "rust_demangle");

	for (size_t i = 0; !f && i < sizeof(pats) / sizeof(pats[0]); i++) {
		glob_t g;

		if (glob(pats[i], 0, NULL, &g) != 0)
			continue;
		for (size_t j = 0; !f && j < g.gl_pathc; j++) {
			void *h = dlopen(g.gl_pathv[j], RTLD_LAZY | RTLD_LOCAL);

			if (h && !(f = dlsym(h, "rust_demangle")))
				dlclose(h);
		}
		globfree(&g);
	}
	rust_v0_demangle = (rust_demangle_fn)f;
}

bool demangle__has_cxx(void)
{
	pthread_once(&cxx_once, load_cxx);
	return cxa_demangle != NULL;
}

bool demangle__has_rust_v0(void)
{
	pthread_once(&rust_once, load_rust);
	return rust_v0_demangle != NULL;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static bool is_rust_hash(const char *p, size_t n)
{
	if (n != 17 || p[0] != 'h')
		return false;
	for (size_t i = 1; i < n; i++)
		if (hexval(p[i]) < 0)
			return false;
	return true;
}

static size_t put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		o[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		o[0] = (char)(0xc0 | (c >> 6));
		o[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		o[0] = (char)(0xe0 | (c >> 12));
		o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		o[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (c >> 18));
	o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	o[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* Unescape one legacy path element into o; returns bytes written or -1. */
static long rust_element(const char *p, size_t n, char *o)
{
	static const struct { const char *esc; char c; } escs[] = {
		{ "SP", '@' }, { "BP", '*' }, { "RF", '&' }, { "LT", '<' },
		{ "GT", '>' }, { "LP", '(' }, { "RP", ')' }, { "C", ',' },
	};
	const char *end = p + n;
	char *start = o;

	if (n >= 2 && p[0] == '_' && p[1] == '$')
		p++;
	while (p < end) {
		if (*p == '.') {
			if (p + 1 < end && p[1] == '.') {
				*o++ = ':';
				*o++ = ':';
				p += 2;
			} else {
				*o++ = *p++;
			}
			continue;
		}
		if (*p != '$') {
			*o++ = *p++;
			continue;
		}
		const char *tok = p + 1, *close = memchr(tok, '$', (size_t)(end - tok));
		size_t len, i;

		if (!close)
			return -1;
		len = (size_t)(close - tok);
		for (i = 0; i < sizeof(escs) / sizeof(escs[0]); i++)
			if (strlen(escs[i].esc) == len && !memcmp(tok, escs[i].esc, len))
				break;
		if (i < sizeof(escs) / sizeof(escs[0])) {
			*o++ = escs[i].c;
		} else if (len >= 2 && len <= 7 && tok[0] == 'u') {
			uint32_t c = 0;

			for (size_t k = 1; k < len; k++) {
				int v = hexval(tok[k]);

				if (v < 0)
					return -1;
				c = c * 16 + (uint32_t)v;
			}
			if (c > 0x10ffff)
				return -1;
			o += put_utf8(o, c);
		} else {
			return -1;
		}
		p = close + 1;
	}
	return o - start;
}

/* _ZN<len><ident>...17h<16 hex>E[.suffix] -> a::b, or NULL (errno EINVAL). */
static char *rust_legacy(const char *name)
{
	const char *p = name, *q, *last = NULL;
	size_t nel = 0, lastn = 0;
	char *out, *o;

	if (!strncmp(p, "_ZN", 3))
		p += 3;
	else if (!strncmp(p, "__ZN", 4))
		p += 4;
	else
		goto inval;
	for (q = p; *q != 'E'; nel++) {
		size_t n = 0;

		if (!isdigit((unsigned char)*q))
			goto inval;
		while (isdigit((unsigned char)*q)) {
			n = n * 10 + (size_t)(*q++ - '0');
			if (n > 4096)
				goto inval;
		}
		if (n == 0 || strnlen(q, n) < n)
			goto inval;
		last = q;
		lastn = n;
		q += n;
	}
	if ((q[1] != '\0' && q[1] != '.') || nel < 2 || !is_rust_hash(last, lastn))
		goto inval;

	/* Unescaping never grows an element; "::" separators add 2 each. */
	out = malloc((size_t)(q - p) + 2 * nel + 1);
	if (!out)
		return NULL;
	o = out;
	for (q = p; --nel > 0;) {
		size_t n = strtoul(q, (char **)&q, 10);
		long w;

		if (o != out) {
			*o++ = ':';
			*o++ = ':';
		}
		w = rust_element(q, n, o);
		if (w < 0) {
			free(out);
			goto inval;
		}
		o += w;
		q += n;
	}
	*o = '\0';
	return out;
inval:
	errno = EINVAL;
	return NULL;
}

static char *cxx(const char *name)
{
	int status = 0;
	char *r;

	if (!demangle__has_cxx()) {
		errno = ENOSYS;
		return NULL;
	}
	r = cxa_demangle(name, NULL, NULL, &status);
	if (!r)
		errno = status == -1 ? ENOMEM : EINVAL;
	return r;
}

static char *rust_v0(const char *name)
{
	char *r;

	if (!demangle__has_rust_v0()) {
		errno = ENOSYS;
		return NULL;
	}
	r = rust_v0_demangle(name, DMGL_PARAMS | DMGL_ANSI);
	if (!r)
		errno = EINVAL;
	return r;
}

char *demangle__name(const char *name)
{
	char *r;

	if (!name) {
		errno = EINVAL;
		return NULL;
	}
	if (!strncmp(name, "_R", 2))
		return rust_v0(name);
	if (strncmp(name, "_Z", 2) && strncmp(name, "__Z", 3)) {
		errno = EINVAL;
		return NULL;
	}
	r = rust_legacy(name);
	if (r || errno == ENOMEM)
		return r;
	return cxx(name);
}
