/* SPDX-License-Identifier: MIT */
/*
 * syms_fixture.h - for test_syms.c: the fixture programs (started, read
 * for their "ready" records, stopped), files copied into temporary roots,
 * build ids and symbol addresses read from files, and frame assertions.
 * Static functions: included by one test file.
 */
#ifndef MEMTRACE_SYMS_FIXTURE_H
#define MEMTRACE_SYMS_FIXTURE_H

#define CXX_RECORD "shop::Ledger<std::__cxx11::basic_string<char, std::char_traits<char>, " \
	"std::allocator<char> > >::record(std::__cxx11::basic_string<char, " \
	"std::char_traits<char>, std::allocator<char> > const&)"
#define CXX_RECORD_MANGLED "_ZN4shop6LedgerINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEE6recordERKS6_"

struct rec {
	char kind[8];
	char name[64];
	uint64_t addr;
	int line, caller_line;
};

struct fx {
	pid_t pid;
	int in;
	FILE *out;
	size_t nr;
	struct rec recs[16];
};

struct ctx {
	char fixtures[2048];	/* sized so joined paths fit PATH_MAX */
	char tmp[256];
	struct fx fx;
	struct syms *s;
	struct frame *frames;
	size_t nr_frames;
};

/* ---- helpers ---------------------------------------------------------------- */

static int fx_read_ready(struct fx *fx)
{
	char line[512];

	while (fgets(line, sizeof(line), fx->out)) {
		struct rec r = { 0 };

		if (!strcmp(line, "ready\n"))
			return 0;
		if (sscanf(line, "%7s %63s %" SCNx64 " %d %d", r.kind, r.name, &r.addr,
			   &r.line, &r.caller_line) >= 3 &&
		    fx->nr < sizeof(fx->recs) / sizeof(fx->recs[0]))
			fx->recs[fx->nr++] = r;
	}
	return -1;
}

/* Start path; with root, chrooted there first (path is then inside it). */
static int fx_start_in(struct fx *fx, const char *root, const char *path)
{
	int in[2], out[2];

	memset(fx, 0, sizeof(*fx));
	fx->in = -1;
	if (pipe(in) || pipe(out))
		return -1;
	fx->pid = fork();
	if (fx->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		if (root && (chroot(root) || chdir("/")))
			_exit(126);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	fx->in = in[1];
	fx->out = fdopen(out[0], "r");
	return fx->out ? fx_read_ready(fx) : -1;
}

static int fx_start(struct fx *fx, const char *path)
{
	return fx_start_in(fx, NULL, path);
}

static void fx_stop(struct fx *fx)
{
	if (fx->in >= 0)
		close(fx->in);
	if (fx->out)
		fclose(fx->out);
	if (fx->pid > 0) {
		kill(fx->pid, SIGKILL);
		waitpid(fx->pid, NULL, 0);
	}
	memset(fx, 0, sizeof(*fx));
	fx->in = -1;
}

static const struct rec *fx_rec(const struct fx *fx, const char *kind, const char *name)
{
	for (size_t i = 0; i < fx->nr; i++)
		if (!strcmp(fx->recs[i].kind, kind) && !strcmp(fx->recs[i].name, name))
			return &fx->recs[i];
	fail_msg("fixture printed no %s %s", kind, name);
	return NULL;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

static void copy_file(const char *src, const char *dst)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0755);

	assert_true(in >= 0 && out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
}

static void mkdirs(const char *path)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s", path);
	for (char *c = p + 1; *c; c++) {
		if (*c == '/') {
			*c = '\0';
			mkdir(p, 0755);
			*c = '/';
		}
	}
	mkdir(p, 0755);
}

/* The hex build-id of an ELF file, in a static buffer. */
static const char *file_build_id(const char *path)
{
	static char hex[128];
	const unsigned char *bits;
	int fd = open(path, O_RDONLY);
	Elf *elf;
	ssize_t len;

	assert_true(fd >= 0);
	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	len = dwelf_elf_gnu_build_id(elf, (const void **)&bits);
	assert_true(len > 0 && len < 64);
	for (ssize_t i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", bits[i]);
	elf_end(elf);
	close(fd);
	return hex;
}

/* st_value of a symbol in a file's .symtab. */
static uint64_t file_sym(const char *path, const char *name)
{
	int fd = open(path, O_RDONLY);
	Elf_Scn *scn = NULL;
	uint64_t v = 0;
	Elf *elf;

	elf_version(EV_CURRENT);
	elf = elf_begin(fd, ELF_C_READ, NULL);
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;

			if (gelf_getsym(d, (int)i, &sym) &&
			    !strcmp(elf_strptr(elf, sh.sh_link, sym.st_name), name))
				v = sym.st_value;
		}
	}
	elf_end(elf);
	close(fd);
	return v;
}

static void assert_frame(const struct frame *f, const char *func, const char *file,
			 int line, bool inlined)
{
	if (func) {
		assert_non_null(f->function);
		assert_string_equal(f->function, func);
	} else {
		assert_null(f->function);
	}
	if (file) {
		assert_non_null(f->file);
		assert_string_equal(strrchr(f->file, '/') ? strrchr(f->file, '/') + 1 : f->file,
				    file);
	} else {
		assert_null(f->file);
	}
	assert_int_equal(f->line, line);
	assert_int_equal(f->inlined, inlined);
}

static void free_frames(struct ctx *c)
{
	for (size_t i = 0; i < c->nr_frames; i++)
		frame__clear(&c->frames[i]);
	free(c->frames);
	c->frames = NULL;
	c->nr_frames = 0;
}

static void symbolize(struct ctx *c, const uint64_t *ips, size_t nr)
{
	free_frames(c);
	assert_int_equal(syms__symbolize(c->s, ips, nr, &c->frames, &c->nr_frames), 0);
}

/* Start fixture name (copied to dst when given) and snapshot it. */
static void start(struct ctx *c, const char *name, const struct syms_opts *opts)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", c->fixtures, name);
	assert_int_equal(fx_start(&c->fx, name[0] == '/' ? name : p), 0);
	c->s = syms__new(c->fx.pid, opts);
	assert_non_null(c->s);
}

/* The two frames of fx_inline's helper_inline return address. */
static void check_inline(struct ctx *c, const char *module_suffix)
{
	const struct rec *r = fx_rec(&c->fx, "ret", "helper_inline");
	const char *m;

	symbolize(c, &r->addr, 1);
	assert_int_equal(c->nr_frames, 2);
	assert_frame(&c->frames[0], "helper_inline", "fx_inline.c", r->line, true);
	assert_frame(&c->frames[1], "outer_function", "fx_inline.c", r->caller_line, false);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(c->frames[i].ip, r->addr);
		assert_non_null(c->frames[i].module);
		assert_non_null(c->frames[i].build_id);
		m = c->frames[i].module;
		assert_string_equal(m + strlen(m) - strlen(module_suffix), module_suffix);
	}
}

/* fx_*'s helper_inline return address without names: one bare frame with
 * module, offset and build-id. */
static void check_unnamed(struct ctx *c)
{
	const struct rec *r = fx_rec(&c->fx, "ret", "helper_inline");

	symbolize(c, &r->addr, 1);
	assert_int_equal(c->nr_frames, 1);
	assert_frame(&c->frames[0], NULL, NULL, 0, false);
	assert_non_null(c->frames[0].module);
	assert_non_null(c->frames[0].build_id);
	assert_true(c->frames[0].offset > 0);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	char exe[1024];
	ssize_t n;

	if (!c)
		return -1;
	c->fx.in = -1;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	snprintf(c->fixtures, sizeof(c->fixtures), "%s/../fixtures/syms", dirname(exe));
	snprintf(c->tmp, sizeof(c->tmp), "/tmp/memtrace-syms-XXXXXX");
	if (!mkdtemp(c->tmp))
		return -1;
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	free_frames(c);
	syms__free(c->s);
	fx_stop(&c->fx);
	nftw(c->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(c);
	return 0;
}

static void need_fixtures(struct ctx *c)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/fx_inline", c->fixtures);
	if (access(p, X_OK))
		skip();	/* make unit builds them; a bare test binary has none */
}

/* ---- tests ------------------------------------------------------------------ */

#endif
