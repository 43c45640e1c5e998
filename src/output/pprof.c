// SPDX-License-Identifier: MIT
/*
 * pprof.c - a report as a pprof heap profile (see pprof.h).
 *
 * The builder sizes every table once from the report (frames, ips,
 * stacks are upper bounds of locations, functions and strings), interns
 * strings, locations and functions in open-addressing index tables, then
 * lets protobuf-c pack the message and zlib gzip it.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "common/outfile.h"
#include "output/proto/profile.pb-c.h"
#include "output/pprof.h"

typedef Memtrace__Pprof__Profile pb_profile;
typedef Memtrace__Pprof__ValueType pb_value_type;
typedef Memtrace__Pprof__Sample pb_sample;
typedef Memtrace__Pprof__Label pb_label;
typedef Memtrace__Pprof__Mapping pb_mapping;
typedef Memtrace__Pprof__Location pb_location;
typedef Memtrace__Pprof__Line pb_line;
typedef Memtrace__Pprof__Function pb_function;

enum { V_ALLOC_OBJECTS, V_ALLOC_SPACE, V_INUSE_OBJECTS, V_INUSE_SPACE, NR_VALUES };
#define LABELS_PER_SAMPLE 3	/* kind, stack_id, category (when known) */
#define NR_COMMENTS 2

/* An open-addressing table of indexes (value + 1; 0 = empty). */
struct itab {
	uint32_t *slot;
	uint64_t *hash;
	size_t mask;
};

struct builder {
	const struct report *r;
	/* strings */
	char **str;
	size_t nr_str, max_str;
	struct itab str_tab;
	char *owned[NR_COMMENTS];
	/* mappings, one per module string */
	pb_mapping *map;
	pb_mapping **mapp;
	int64_t *map_module;	/* module string index of map[i] */
	bool *map_unsym;	/* some location of map[i] has no line */
	size_t nr_map;
	/* functions */
	pb_function *fn;
	pb_function **fnp;
	size_t nr_fn;
	struct itab fn_tab;
	/* locations and their lines */
	pb_location *loc;
	pb_location **locp;
	size_t nr_loc;
	struct itab loc_tab;
	pb_line *line;
	pb_line **linep;
	size_t nr_line;
	/* samples */
	pb_sample *smp;
	pb_sample **smpp;
	uint64_t *loc_ids;
	size_t nr_loc_ids;
	int64_t *values;
	pb_label *lbl;
	pb_label **lblp;
	/* fixed parts */
	pb_value_type types[NR_VALUES], period_type;
	pb_value_type *typesp[NR_VALUES];
	int64_t comments[NR_COMMENTS];
};

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++) {
		h ^= c[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t hash_str(const char *s)
{
	return hash_bytes(0xcbf29ce484222325ULL, s, strlen(s));
}

static uint64_t hash_u64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static int itab_init(struct itab *t, size_t max)
{
	size_t cap = 16;

	while (cap < 2 * max)
		cap <<= 1;
	t->slot = calloc(cap, sizeof(*t->slot));
	t->hash = calloc(cap, sizeof(*t->hash));
	t->mask = cap - 1;
	return t->slot && t->hash ? 0 : -ENOMEM;
}

static void itab_free(struct itab *t)
{
	free(t->slot);
	free(t->hash);
}

/* First slot for hash h that is empty or holds an equal entry. */
#define itab_probe(t, h, eq_expr, out_pos)				\
	do {								\
		size_t _p = (h) & (t)->mask;				\
		for (;; _p = (_p + 1) & (t)->mask) {			\
			uint32_t idx = (t)->slot[_p];			\
			if (!idx)					\
				break;					\
			idx--;						\
			if ((t)->hash[_p] == (h) && (eq_expr))		\
				break;					\
		}							\
		(out_pos) = _p;						\
	} while (0)

/* Index of s in the string table, added if new. NULL interns as "". */
static int64_t intern(struct builder *b, const char *s)
{
	uint64_t h;
	size_t pos;

	if (!s || !*s)
		return 0;
	h = hash_str(s);
	itab_probe(&b->str_tab, h, strcmp(b->str[idx], s) == 0, pos);
	if (b->str_tab.slot[pos])
		return b->str_tab.slot[pos] - 1;
	if (b->nr_str >= b->max_str)	/* cannot happen: max_str is an upper bound */
		return 0;
	b->str[b->nr_str] = (char *)s;
	b->str_tab.hash[pos] = h;
	b->str_tab.slot[pos] = (uint32_t)++b->nr_str;
	return (int64_t)b->nr_str - 1;
}

static uint64_t function_id(struct builder *b, const struct frame *f)
{
	int64_t name = intern(b, f->function);
	int64_t sys = intern(b, f->system_name ? f->system_name : f->function);
	int64_t file = intern(b, f->file);
	int64_t key[3] = { name, sys, file };
	uint64_t h = hash_bytes(0xcbf29ce484222325ULL, key, sizeof(key));
	size_t pos;
	pb_function *fn;

	itab_probe(&b->fn_tab, h, b->fn[idx].name == name &&
		   b->fn[idx].system_name == sys && b->fn[idx].filename == file, pos);
	if (b->fn_tab.slot[pos])
		return b->fn_tab.slot[pos];
	fn = &b->fn[b->nr_fn];
	memtrace__pprof__function__init(fn);
	fn->id = b->nr_fn + 1;
	fn->name = name;
	fn->system_name = sys;
	fn->filename = file;
	b->fnp[b->nr_fn] = fn;
	b->fn_tab.hash[pos] = h;
	b->fn_tab.slot[pos] = (uint32_t)++b->nr_fn;
	return fn->id;
}

static size_t mapping_index(struct builder *b, int64_t module)
{
	for (size_t i = 0; i < b->nr_map; i++)
		if (b->map_module[i] == module)
			return i;
	return SIZE_MAX;
}

/* Register f's module as a mapping (pass 1) and widen its address range. */
static void add_mapping(struct builder *b, const struct frame *f)
{
	int64_t module = intern(b, f->module);
	uint64_t start = f->ip >= f->offset ? f->ip - f->offset : 0;
	size_t i = mapping_index(b, module);
	pb_mapping *m;

	if (i == SIZE_MAX) {
		i = b->nr_map++;
		m = &b->map[i];
		memtrace__pprof__mapping__init(m);
		m->memory_start = start;
		m->memory_limit = f->ip + 1;
		m->filename = module;
		b->map_module[i] = module;
	}
	m = &b->map[i];
	if (!m->build_id)
		m->build_id = intern(b, f->build_id);
	if (start < m->memory_start)
		m->memory_start = start;
	if (f->ip + 1 > m->memory_limit)
		m->memory_limit = f->ip + 1;
	if (f->function)
		m->has_functions = true;
	if (f->file)
		m->has_filenames = true;
	if (f->line > 0)
		m->has_line_numbers = true;
	if (f->inlined)
		m->has_inline_frames = true;
}

/* pprof takes the first mapping as the main binary: put comm's there. */
static void order_mappings(struct builder *b)
{
	const char *comm = b->r->comm;
	size_t n = strnlen(comm, sizeof(b->r->comm));

	for (size_t i = 1; n && i < b->nr_map; i++) {
		const char *path = b->str[b->map_module[i]];
		const char *base = strrchr(path, '/');

		base = base ? base + 1 : path;
		if (strncmp(base, comm, n) != 0)
			continue;
		pb_mapping m = b->map[i];
		int64_t mod = b->map_module[i];

		memmove(&b->map[1], &b->map[0], i * sizeof(b->map[0]));
		memmove(&b->map_module[1], &b->map_module[0], i * sizeof(b->map_module[0]));
		b->map[0] = m;
		b->map_module[0] = mod;
		break;
	}
	for (size_t i = 0; i < b->nr_map; i++) {
		b->map[i].id = i + 1;
		b->mapp[i] = &b->map[i];
	}
}

/*
 * Location id for the frames f[0..n) of one ip (inlined ones first, the
 * last being the physical function), or for a bare ip when n == 0.
 */
static uint64_t location_id(struct builder *b, uint64_t ip, const struct frame *f, size_t n)
{
	uint64_t h = hash_u64(ip);
	size_t pos, lines = 0;
	pb_location *l;

	itab_probe(&b->loc_tab, h, b->loc[idx].address == ip, pos);
	if (b->loc_tab.slot[pos])
		return b->loc_tab.slot[pos];
	l = &b->loc[b->nr_loc];
	memtrace__pprof__location__init(l);
	l->id = b->nr_loc + 1;
	l->address = ip;
	l->line = &b->linep[b->nr_line];
	if (n && f[0].module) {
		size_t mi = mapping_index(b, intern(b, f[0].module));

		l->mapping_id = mi == SIZE_MAX ? 0 : b->map[mi].id;
	}
	for (size_t i = 0; i < n; i++) {
		pb_line *ln;

		if (!f[i].function)
			continue;
		ln = &b->line[b->nr_line];
		memtrace__pprof__line__init(ln);
		ln->function_id = function_id(b, &f[i]);
		ln->line = f[i].line;
		b->linep[b->nr_line++] = ln;
		lines++;
	}
	l->n_line = lines;
	if (!lines && l->mapping_id)
		b->map_unsym[l->mapping_id - 1] = true;
	b->locp[b->nr_loc] = l;
	b->loc_tab.hash[pos] = h;
	b->loc_tab.slot[pos] = (uint32_t)++b->nr_loc;
	return l->id;
}

/* Length of the frame group starting at f[0]: inlined frames of one ip
 * up to and including the first non-inlined one. */
static size_t group_len(const struct frame *f, size_t n)
{
	size_t i = 0;

	while (i < n && f[i].ip == f[0].ip) {
		if (!f[i++].inlined)
			break;
	}
	return i ? i : 1;
}

static void add_sample(struct builder *b, size_t si)
{
	const struct stack_report *s = &b->r->stacks[si];
	pb_sample *smp = &b->smp[si];
	int64_t *v = &b->values[si * NR_VALUES];
	pb_label *lbl = &b->lbl[si * LABELS_PER_SAMPLE];

	memtrace__pprof__sample__init(smp);
	smp->location_id = &b->loc_ids[b->nr_loc_ids];
	if (s->nr_frames) {
		for (size_t i = 0; i < s->nr_frames;) {
			size_t n = group_len(&s->frames[i], s->nr_frames - i);

			b->loc_ids[b->nr_loc_ids++] = location_id(b, s->frames[i].ip, &s->frames[i], n);
			i += n;
		}
	} else {
		for (size_t i = 0; i < s->nr_ips; i++)
			b->loc_ids[b->nr_loc_ids++] = location_id(b, s->ips[i], NULL, 0);
	}
	smp->n_location_id = &b->loc_ids[b->nr_loc_ids] - smp->location_id;
	v[V_ALLOC_OBJECTS] = (int64_t)s->alloc_calls;
	v[V_ALLOC_SPACE] = (int64_t)s->alloc_bytes;
	v[V_INUSE_OBJECTS] = s->outstanding_allocs;
	v[V_INUSE_SPACE] = s->outstanding_bytes;
	smp->value = v;
	smp->n_value = NR_VALUES;
	for (int i = 0; i < LABELS_PER_SAMPLE; i++) {
		memtrace__pprof__label__init(&lbl[i]);
		b->lblp[si * LABELS_PER_SAMPLE + i] = &lbl[i];
	}
	lbl[0].key = intern(b, "kind");
	lbl[0].str = intern(b, alloc_kind_name(s->kind));
	lbl[1].key = intern(b, "stack_id");
	lbl[1].num = (int64_t)s->stack_id;
	smp->label = &b->lblp[si * LABELS_PER_SAMPLE];
	smp->n_label = 2;
	if (s->category >= 0 && (size_t)s->category < b->r->nr_categories) {
		lbl[2].key = intern(b, "category");
		lbl[2].str = intern(b, b->r->categories[s->category].name);
		smp->n_label = 3;
	}
	b->smpp[si] = smp;
}

static void builder_free(struct builder *b)
{
	for (int i = 0; i < NR_COMMENTS; i++)
		free(b->owned[i]);
	free(b->lblp);
	free(b->lbl);
	free(b->values);
	free(b->loc_ids);
	free(b->smpp);
	free(b->smp);
	free(b->linep);
	free(b->line);
	itab_free(&b->loc_tab);
	free(b->locp);
	free(b->loc);
	itab_free(&b->fn_tab);
	free(b->fnp);
	free(b->fn);
	free(b->map_unsym);
	free(b->map_module);
	free(b->mapp);
	free(b->map);
	itab_free(&b->str_tab);
	free(b->str);
}

static int builder_init(struct builder *b, const struct report *r)
{
	size_t frames = 0, ips = 0, n = r->nr_stacks;
	int err = 0;

	memset(b, 0, sizeof(*b));
	b->r = r;
	for (size_t i = 0; i < n; i++) {
		frames += r->stacks[i].nr_frames;
		ips += r->stacks[i].nr_frames ? 0 : r->stacks[i].nr_ips;
	}
	/* every frame may bring module, build id, name, system name, file */
	b->max_str = 5 * frames + 32 + KIND_MAX;
	b->str = calloc(b->max_str, sizeof(*b->str));
	err |= itab_init(&b->str_tab, b->max_str);
	b->map = calloc(frames + 1, sizeof(*b->map));
	b->mapp = calloc(frames + 1, sizeof(*b->mapp));
	b->map_module = calloc(frames + 1, sizeof(*b->map_module));
	b->map_unsym = calloc(frames + 1, sizeof(*b->map_unsym));
	b->fn = calloc(frames + 1, sizeof(*b->fn));
	b->fnp = calloc(frames + 1, sizeof(*b->fnp));
	err |= itab_init(&b->fn_tab, frames + 1);
	b->loc = calloc(frames + ips + 1, sizeof(*b->loc));
	b->locp = calloc(frames + ips + 1, sizeof(*b->locp));
	err |= itab_init(&b->loc_tab, frames + ips + 1);
	b->line = calloc(frames + 1, sizeof(*b->line));
	b->linep = calloc(frames + 1, sizeof(*b->linep));
	b->smp = calloc(n + 1, sizeof(*b->smp));
	b->smpp = calloc(n + 1, sizeof(*b->smpp));
	b->loc_ids = calloc(frames + ips + 1, sizeof(*b->loc_ids));
	b->values = calloc(n * NR_VALUES + 1, sizeof(*b->values));
	b->lbl = calloc(n * LABELS_PER_SAMPLE + 1, sizeof(*b->lbl));
	b->lblp = calloc(n * LABELS_PER_SAMPLE + 1, sizeof(*b->lblp));
	if (err || !b->str || !b->map || !b->mapp || !b->map_module || !b->map_unsym ||
	    !b->fn || !b->fnp || !b->loc || !b->locp || !b->line || !b->linep ||
	    !b->smp || !b->smpp || !b->loc_ids || !b->values || !b->lbl || !b->lblp) {
		builder_free(b);
		return -ENOMEM;
	}
	b->str[0] = "";
	b->nr_str = 1;
	return 0;
}

static void set_value_type(struct builder *b, pb_value_type *vt, const char *type, const char *unit)
{
	memtrace__pprof__value_type__init(vt);
	vt->type = intern(b, type);
	vt->unit = intern(b, unit);
}

static int build(struct builder *b, pb_profile *p)
{
	const struct report *r = b->r;
	static const char *const types[NR_VALUES][2] = {
		[V_ALLOC_OBJECTS] = { "alloc_objects", "count" },
		[V_ALLOC_SPACE] = { "alloc_space", "bytes" },
		[V_INUSE_OBJECTS] = { "inuse_objects", "count" },
		[V_INUSE_SPACE] = { "inuse_space", "bytes" },
	};

	memtrace__pprof__profile__init(p);
	for (int i = 0; i < NR_VALUES; i++) {
		set_value_type(b, &b->types[i], types[i][0], types[i][1]);
		b->typesp[i] = &b->types[i];
	}
	set_value_type(b, &b->period_type, "space", "bytes");
	/* pass 1: mappings, so that ids are final before locations use them */
	for (size_t i = 0; i < r->nr_stacks; i++)
		for (size_t j = 0; j < r->stacks[i].nr_frames; j++)
			if (r->stacks[i].frames[j].module)
				add_mapping(b, &r->stacks[i].frames[j]);
	order_mappings(b);
	/* pass 2: samples, locations, functions */
	for (size_t i = 0; i < r->nr_stacks; i++)
		add_sample(b, i);
	for (size_t i = 0; i < b->nr_map; i++)
		if (b->map_unsym[i])	/* let pprof try to symbolize the rest */
			b->map[i].has_functions = false;

	if (asprintf(&b->owned[0], "memtrace: pid %d (%.*s)", r->pid,
		     (int)sizeof(r->comm), r->comm) < 0)
		b->owned[0] = NULL;
	if (asprintf(&b->owned[1], r->sample_bytes ?
		     "sampled every %llu bytes on average; values unbiased" :
		     "full tracing (period %llu): values exact",
		     (unsigned long long)(r->sample_bytes ? r->sample_bytes : 1)) < 0)
		b->owned[1] = NULL;
	if (!b->owned[0] || !b->owned[1])
		return -ENOMEM;
	for (int i = 0; i < NR_COMMENTS; i++)
		b->comments[i] = intern(b, b->owned[i]);

	p->n_sample_type = NR_VALUES;
	p->sample_type = b->typesp;
	p->n_sample = r->nr_stacks;
	p->sample = b->smpp;
	p->n_mapping = b->nr_map;
	p->mapping = b->mapp;
	p->n_location = b->nr_loc;
	p->location = b->locp;
	p->n_function = b->nr_fn;
	p->function = b->fnp;
	p->time_nanos = (int64_t)(r->time * 1e9);
	p->duration_nanos = r->elapsed_s > 0 ? (int64_t)(r->elapsed_s * 1e9) : 0;
	p->period_type = &b->period_type;
	p->period = r->sample_bytes ? (int64_t)r->sample_bytes : 1;
	p->n_comment = NR_COMMENTS;
	p->comment = b->comments;
	p->default_sample_type = b->types[V_INUSE_SPACE].type;
	/* last: every string is interned by now */
	p->n_strings = b->nr_str;
	p->strings = b->str;
	return 0;
}

static int gzip_buf(const void *in, size_t in_len, void **out, size_t *out_len)
{
	z_stream zs = { 0 };
	size_t cap;
	void *buf;
	int ret;

	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	cap = deflateBound(&zs, in_len) + 32;
	buf = malloc(cap);
	if (!buf) {
		deflateEnd(&zs);
		return -ENOMEM;
	}
	zs.next_in = (Bytef *)in;
	zs.avail_in = in_len;
	zs.next_out = buf;
	zs.avail_out = cap;
	ret = deflate(&zs, Z_FINISH);
	*out_len = zs.total_out;
	deflateEnd(&zs);
	if (ret != Z_STREAM_END) {
		free(buf);
		return -EIO;
	}
	*out = buf;
	return 0;
}

int pprof__encode(const struct report *r, bool gzip, void **buf, size_t *len)
{
	struct builder b;
	pb_profile p;
	uint8_t *raw;
	size_t raw_len;
	int err;

	err = builder_init(&b, r);
	if (err)
		return err;
	err = build(&b, &p);
	if (err)
		goto free_builder;
	raw_len = memtrace__pprof__profile__get_packed_size(&p);
	raw = malloc(raw_len ? raw_len : 1);
	if (!raw) {
		err = -ENOMEM;
		goto free_builder;
	}
	memtrace__pprof__profile__pack(&p, raw);
	if (!gzip) {
		*buf = raw;
		*len = raw_len;
		goto free_builder;
	}
	err = gzip_buf(raw, raw_len, buf, len);
	free(raw);
free_builder:
	builder_free(&b);
	return err;
}

int pprof__save(const void *buf, size_t len, const char *path, mode_t mode)
{
	return outfile__write(path, mode, buf, len);
}

int pprof__write(const struct report *r, const char *path)
{
	void *buf;
	size_t len;
	int err;

	err = pprof__encode(r, true, &buf, &len);
	if (err)
		return err;
	err = pprof__save(buf, len, path, OUTFILE_MODE_DEFAULT);
	free(buf);
	return err;
}
