"""Symbolization through the real tracer (issue 3): the frames of memtrace's
-f json report name the right function, file and line for C++ templates,
inlined helpers, a library dlopen()ed after attach, a stripped binary with
its debug file under --debug-dir, a binary deleted before attach, and with
--no-symbols give a module offset that addr2line resolves to the function.

Targets: tests/targets/sym_inline.c, sym_cxx.cpp, sym_dlopen.c and
sym_plugin/sym_plugin.c (mk/sym_targets.mk). Expected lines are the
"@line:NAME" markers of those sources (symlib.src_line), expected
build-ids come from readelf, and the expected names of --no-symbols
offsets from addr2line: nothing here is a number copied from a build.

Every test is one memtrace session (attach or launch mode; the two C++
tests share one); the target waits for SIGUSR1 until tracing is live and
outlives the final report.
"""
import os
import shutil
import subprocess

import lib
import symlib

INLINE_SRC = "sym_inline.c"
CXX_SRC = "sym_cxx.cpp"
STRING = ("std::__cxx11::basic_string<char, std::char_traits<char>, "
          "std::allocator<char> >")
RECORD = f"shop::Ledger<{STRING} >::record({STRING} const&)"
RECORD_MANGLED = ("_ZN4shop6LedgerINSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEEE"
                  "6recordERKS6_")
KEEP = f"shop::Ledger<{STRING} >::keep({STRING} const&)"


def inline_want():
    """addr2line -i of sym_inline's allocating ip: grab() inside fill_cache()."""
    return [("grab", INLINE_SRC, symlib.src_line(INLINE_SRC, "grab")),
            ("fill_cache", INLINE_SRC, symlib.src_line(INLINE_SRC, "fill_cache"))]


def target(name):
    """The canonical path of build/targets/NAME: what /proc/PID/maps shows."""
    return os.path.realpath(lib.target_path(name))


def check_inline_stack(rep, path, bid=None):
    """sym_inline's 1111-byte malloc: grab() inlined into fill_cache() (one
    ip, two frames), then main(), every frame in module path with build-id
    bid (default: that of the file at path)."""
    s = lib.check_stack(rep, "grab", "malloc", outstanding_bytes=1111, outstanding_allocs=1,
                        alloc_calls=1)
    bid = bid or lib.build_id(path)
    common = dict(module=path, build_id=bid)
    f0 = symlib.check_frame(s, 0, function="grab", system_name="grab", file=INLINE_SRC,
                            line=symlib.src_line(INLINE_SRC, "grab"), inlined=True, **common)
    f1 = symlib.check_frame(s, 1, function="fill_cache", system_name="fill_cache",
                            file=INLINE_SRC, line=symlib.src_line(INLINE_SRC, "fill_cache"),
                            inlined=False, **common)
    symlib.check_frame(s, 2, function="main", file=INLINE_SRC,
                       line=symlib.src_line(INLINE_SRC, "main"), inlined=False, **common)
    assert (f0["ip"], f0["offset"]) == (f1["ip"], f1["offset"]), \
        "an inlined frame and its caller come from one ip:\n" + symlib.describe_frames(s)
    return s


# ---- (a) C++ ----------------------------------------------------------------

def cxx_session():
    """One attach-mode run of sym_cxx, shared by the C++ tests: (report,
    done). Attach mode: libstdc++'s unwind table is loaded before the
    probes, so the caller of operator new is found deterministically."""
    return lib.once("sym_cxx", lambda: symlib.attach(lib.Target("sym_cxx", "wait")))


def test_cxx_template_member():
    """A member function of a class template: demangled name with its
    template arguments and parameters, mangled system_name, file, line."""
    path = target("sym_cxx")
    nm = subprocess.run(["nm", path], capture_output=True, text=True, check=True).stdout
    assert RECORD_MANGLED in nm, f"{path} has no symbol {RECORD_MANGLED} (toolchain ABI?)"
    rep, done = cxx_session()
    s = lib.check_stack(rep, RECORD, "malloc", outstanding_bytes=done["record"],
                        outstanding_allocs=1, alloc_calls=1)
    bid = lib.build_id(path)
    symlib.check_frame(s, 0, function=RECORD, system_name=RECORD_MANGLED, file=CXX_SRC,
                       line=symlib.src_line(CXX_SRC, "record"), inlined=False, module=path,
                       build_id=bid)
    symlib.check_frame(s, 1, function="main", system_name="main", file=CXX_SRC,
                       line=symlib.src_line(CXX_SRC, "main_record"), inlined=False,
                       module=path, build_id=bid)


def test_cxx_operator_new():
    """new in a template member: libstdc++'s operator new, named from its
    .dynsym (demangled, no line), then the member function that called it."""
    path = target("sym_cxx")
    rep, _ = cxx_session()
    s = lib.check_stack(rep, "operator new(unsigned long)", "malloc", outstanding_bytes=32,
                        outstanding_allocs=1, alloc_calls=1)
    f = symlib.check_frame(s, 0, system_name="_Znwm", file=None, line=None, inlined=False)
    assert os.path.basename(f["module"]).startswith("libstdc++.so"), symlib.describe_frames(s)
    assert f["build_id"] == lib.build_id(f["module"]), symlib.describe_frames(s)
    # operator new keeps no frame pointer: only DWARF unwinding finds its caller
    symlib.check_frame(s, 1, function=KEEP, file=CXX_SRC, line=symlib.src_line(CXX_SRC, "keep"),
                       inlined=False, module=path)
    symlib.check_frame(s, 2, function="main", file=CXX_SRC,
                       line=symlib.src_line(CXX_SRC, "main_keep"), module=path)


# ---- (b) inlined frames -------------------------------------------------------

def test_inlined_helper():
    """An always_inline helper that allocates: an inlined frame at the
    helper's line, then its caller at the call's line, from one ip; and
    addr2line -i says the same of that offset."""
    path = target("sym_inline")
    rep, done = symlib.attach(lib.Target("sym_inline", "wait"))
    assert done["inline"] == 1111, done
    s = check_inline_stack(rep, path)
    got = symlib.addr2line(path, s["frames"][0]["offset"] - 1)
    assert got == inline_want(), f"addr2line: {got}, want {inline_want()}"


# ---- (c) dlopen after attach --------------------------------------------------

def test_dlopen_after_attach():
    """A library the target dlopen()s only after tracing went live: its
    allocation is attributed to its function, file, line and path."""
    lib_path = target("libsym_plugin.so")
    exe = target("sym_dlopen")

    def not_loaded_yet(t):
        with open(f"/proc/{t.pid}/maps") as f:
            assert lib_path not in f.read(), "the library is mapped before the go"

    rep, done = symlib.attach(lib.Target("sym_dlopen", lib_path, "wait"),
                              before_go=not_loaded_yet)
    assert done["loaded"] == 1, done
    s = lib.check_stack(rep, "sym_plugin_alloc", "malloc", outstanding_bytes=3333,
                        outstanding_allocs=1, alloc_calls=1)
    symlib.check_frame(s, 0, function="sym_plugin_alloc", system_name="sym_plugin_alloc",
                       file="sym_plugin.c",
                       line=symlib.src_line("sym_plugin/sym_plugin.c", "sym_plugin_alloc"),
                       inlined=False, module=lib_path, build_id=lib.build_id(lib_path))
    symlib.check_frame(s, 1, function="load_and_call", file="sym_dlopen.c",
                       line=symlib.src_line("sym_dlopen.c", "load_and_call"), inlined=False,
                       module=exe, build_id=lib.build_id(exe))


# ---- (d) stripped, debug file by build-id ---------------------------------------

def test_stripped_debug_dir_build_id():
    """A stripped binary, its debug file only at DIR/.build-id/xx/rest.debug:
    with --debug-dir DIR the frames are those of the unstripped build."""
    path = target("sym_inline_stripped")
    secs = symlib.sections(path)
    assert not secs & {".symtab", ".debug_info", ".debug_line"}, f"{path} is not stripped"
    bid = lib.build_id(path)
    dbg = lib.target_path("sym_inline_stripped.debug")
    assert lib.build_id(dbg) == bid
    d = lib.tmpdir()
    os.makedirs(f"{d}/.build-id/{bid[:2]}")
    shutil.copy(dbg, f"{d}/.build-id/{bid[:2]}/{bid[2:]}.debug")
    rep, _ = symlib.launch([path, "wait"], "--debug-dir", d)
    check_inline_stack(rep, path)


# ---- (e) deleted binary --------------------------------------------------------

def test_deleted_binary_attach():
    """The target's executable is deleted, and another ELF file put at its
    path, before memtrace attaches: frames still come from the mapped file."""
    d = os.path.realpath(lib.tmpdir())
    path = f"{d}/sym_gone"
    shutil.copy(lib.target_path("sym_inline"), path)
    bid = lib.build_id(path)
    t = lib.Target("sym_gone", "wait", path=path)
    os.unlink(path)
    shutil.copy(lib.target_path("sym_cxx"), path)
    with open(f"/proc/{t.pid}/maps") as f:
        assert f"{path} (deleted)" in f.read()
    rep, _ = symlib.attach(t)
    check_inline_stack(rep, path, bid)


# ---- (f) --no-symbols ------------------------------------------------------------

def test_no_symbols_offsets():
    """--no-symbols: one frame per ip with module, offset and build_id and
    no names; addr2line turns offset - 1 into the allocating functions."""
    path = target("sym_inline")
    bid = lib.build_id(path)
    rep, _ = symlib.launch([path, "wait"], "--no-symbols")
    got = [s for s in rep["stacks"] if s["kind"] == "malloc" and s["outstanding_bytes"] == 1111]
    assert len(got) == 1, "want one 1111-byte malloc stack:\n" + lib.describe(rep)
    s = got[0]
    for i, f in enumerate(s["frames"]):
        for k in ("function", "system_name", "file", "line"):
            assert f[k] is None, f"frame {i}: {k}={f[k]!r} with --no-symbols"
        assert f["inlined"] is False, f"frame {i} inlined with --no-symbols"
        if f["module"] is not None:
            assert isinstance(f["offset"], int) and f["offset"] > 0, f
            assert f["build_id"] == lib.build_id(f["module"]), f
    f0 = symlib.check_frame(s, 0, module=path, build_id=bid)
    f1 = symlib.check_frame(s, 1, module=path, build_id=bid)
    want1 = [("main", INLINE_SRC, symlib.src_line(INLINE_SRC, "main"))]
    for f, want in ((f0, inline_want()), (f1, want1)):
        got = symlib.addr2line(path, f["offset"] - 1)
        assert got == want, f"addr2line {path} {f['offset'] - 1:#x}: {got}, want {want}"
    # the plain `addr2line -f` of the issue: the innermost function
    out = subprocess.run(["addr2line", "-f", "-e", path, f"{f0['offset'] - 1:#x}"],
                         capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[0] == "grab", out
