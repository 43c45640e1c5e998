"""Issue 19, hostile binaries: memtrace runs as root and reads ELF files a
container controls. Each test builds a chroot (the target, and its own
copies of the dynamic loader and libc), corrupts one of its files the way
an attacker or a broken build could, runs alloc_kinds in it and attaches
`memtrace -p`: memtrace must either trace with the bad file's unwind table
counted as failed (its frames fall back to frame pointers) and the bytes
still exact, or refuse cleanly: one line on stderr, a non-zero exit, never
a signal or a hang, and nothing left attached either way.

The corrupted files run: only what memtrace parses and the loader does not
need is broken (.eh_frame, .eh_frame_hdr, section headers, .symtab).
"""
import os
import shutil
import struct
import subprocess
import time

import elfpatch
import lib

LIBC_IN_ROOT = "/lib/x86_64-linux-gnu/libc.so.6"
LD_IN_ROOT = "/lib64/ld-linux-x86-64.so.2"
LEAK_BYTES = 3 * 1000		# alloc_kinds' malloc group: leak_malloc


def _host_lib(name):
    out = subprocess.run(["ldd", lib.target_path("alloc_kinds")], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if parts and os.path.basename(parts[0]) == name:
            return os.path.realpath(parts[2] if "=>" in parts else parts[0])
    raise lib.Skip(f"alloc_kinds does not link {name} (ldd: {out.strip()})")


def make_root():
    """A fresh chroot: /t/alloc_kinds with its loader and libc. Returns
    (root, {name in root: host path of its copy})."""
    root = lib.tmpdir()
    files = {"/t/alloc_kinds": lib.target_path("alloc_kinds"),
             LIBC_IN_ROOT: _host_lib("libc.so.6"), LD_IN_ROOT: _host_lib("ld-linux-x86-64.so.2")}
    out = {}
    for inroot, src in files.items():
        dst = root + inroot
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(src, dst)
        out[inroot] = dst
    return root, out


def run_in_root(root, timeout=90, symbols=True):
    """alloc_kinds malloc in the chroot, memtrace -p on it. Returns
    ('traced', final report) or ('refused', stderr lines); asserts the
    common rules: no signal, no hang, nothing left attached, exact bytes
    when traced."""
    chroot = shutil.which("chroot") or "/usr/sbin/chroot"
    t = lib.Target("alloc_kinds", root, "/t/alloc_kinds", "malloc", "wait", path=chroot)
    w = lib.ProbeWatch()
    out = os.path.join(lib.tmpdir(), "reports.json")
    m = lib.Memtrace("-f", "json", "-n", "0", "--output", out, "-p", str(t.pid), output=out)
    deadline = time.monotonic() + timeout
    while "memtrace: tracing pid" not in m.err.text() and m.proc.poll() is None:
        assert time.monotonic() < deadline, \
            f"memtrace neither traced nor exited in {timeout} s; stderr:\n{m.err.text()}"
        time.sleep(0.05)
    if m.proc.poll() is not None:
        rc = m.wait()
        lines = m.stderr_lines()
        assert rc > 0, f"memtrace died with status {rc} (a signal); stderr:\n{m.err.text()}"
        assert len(lines) == 1 and lines[0].startswith("memtrace: "), lines
        assert t.alive(), "the target died of the refusal"
        t.go()
        t.wait_done()
        t.release()
        assert t.wait() == 0
        w.assert_clean(mine=[m.pid, t.pid])
        return "refused", lines
    t.go()
    done = t.wait_done()
    m.stop()
    rc = m.wait(timeout=timeout)
    assert rc == 0, f"memtrace exited {rc}; stderr:\n{m.err.text()}"
    t.release()
    assert t.wait() == 0, t.err.text()
    w.assert_clean(mine=[m.pid, t.pid])
    rep = m.final()
    if symbols:
        lib.check_stack(rep, "leak_malloc", "malloc", anywhere=True, outstanding_bytes=LEAK_BYTES)
    else:	# no names: the bytes at an address of the executable
        got = [s["outstanding_bytes"] for s in rep["stacks"] if s["kind"] == "malloc" and
               s["frames"] and (s["frames"][0].get("module") or "").endswith("/t/alloc_kinds")]
        assert LEAK_BYTES in got, lib.describe(rep)
    return "traced", rep


def failed_tables(rep, module):
    """The errors of the report's unwind table failures of module (a path
    in the chroot: /proc/PID/maps, hence the report, names it as memtrace
    sees it, under the chroot's directory)."""
    return [f["error"] for f in rep["totals"]["unwind_table_failures"]
            if f["module"].endswith(module)]


def assert_table_failed(rep, module, error):
    t = rep["totals"]
    assert t["unwind_no_table"] >= 1, t
    assert failed_tables(rep, module) == [error], (module, t["unwind_table_failures"])


def assert_table_ok(rep, module):
    assert not failed_tables(rep, module), rep["totals"]["unwind_table_failures"]


# ---- the cases ---------------------------------------------------------------

def test_hostile_control():
    """The untouched chroot: traced, every table built."""
    root, _ = make_root()
    how, rep = run_in_root(root)
    assert how == "traced"
    assert rep["totals"]["unwind_no_table"] == 0, rep["totals"]


def test_hostile_eh_frame_past_eof():
    """libc's .eh_frame section header says it runs 1 GiB past the end of
    the file (a truncated copy): libc's table fails and is counted."""
    root, files = make_root()
    e = elfpatch.Elf(files[LIBC_IN_ROOT])
    e.set_shdr(".eh_frame", size=e.section(".eh_frame")["size"] + (1 << 30))
    e.save(files[LIBC_IN_ROOT])
    how, rep = run_in_root(root)
    assert how == "traced"
    assert_table_failed(rep, LIBC_IN_ROOT, "No data available")


def test_hostile_eh_frame_entry_truncated():
    """An FDE in the middle of libc's .eh_frame claims a length that runs
    past the end of the section: the section cannot be read to its end;
    the table fails and is counted."""
    root, files = make_root()
    e = elfpatch.Elf(files[LIBC_IN_ROOT])
    entries = e.eh_frame_entries()
    off = [x for x in entries if not x[2]][len(entries) // 2][0]
    e.set_u32(off, 0xfffffff0 - 1)
    e.save(files[LIBC_IN_ROOT])
    how, rep = run_in_root(root)
    assert how == "traced"
    assert_table_failed(rep, LIBC_IN_ROOT, "Invalid argument")


def test_hostile_cie_absurd_length():
    """libc's first CIE has the length 0xfffffff0: the table fails."""
    root, files = make_root()
    e = elfpatch.Elf(files[LIBC_IN_ROOT])
    cie = [x for x in e.eh_frame_entries() if x[2]][0]
    e.set_u32(cie[0], 0xfffffff0)
    e.save(files[LIBC_IN_ROOT])
    how, rep = run_in_root(root)
    assert how == "traced"
    assert_table_failed(rep, LIBC_IN_ROOT, "Invalid argument")


def test_hostile_cie_absurd_augmentation():
    """Every CIE of libc has an augmentation string of 'z' and 'P's that
    fills the CIE with no terminating NUL: .eh_frame cannot be read past
    the first CIE (EINVAL); libc's table fails and is counted, nothing is
    read out of bounds."""
    root, files = make_root()
    e = elfpatch.Elf(files[LIBC_IN_ROOT])
    for off, length, is_cie in e.eh_frame_entries():
        if is_cie:
            body = off + 9		# length, CIE id, version
            e.patch(body, b"z" + b"P" * (off + 4 + length - body - 1))
    e.save(files[LIBC_IN_ROOT])
    how, rep = run_in_root(root)
    assert how == "traced"
    assert_table_failed(rep, LIBC_IN_ROOT, "Invalid argument")


def test_hostile_eh_frame_hdr_out_of_bounds():
    """libc's .eh_frame_hdr search table claims 2^31 entries whose FDE
    pointers all point past the end of the file: libdw cannot use the
    header, the table is built from .eh_frame alone (nothing lost)."""
    root, files = make_root()
    e = elfpatch.Elf(files[LIBC_IN_ROOT])
    hdr = e.section(".eh_frame_hdr")
    ver, ptr_enc, count_enc, table_enc = e.data(".eh_frame_hdr")[:4]
    assert (ver, count_enc, table_enc) == (1, 0x03, 0x3b), (ver, count_enc, table_enc)
    e.set_u32(hdr["offset"] + 8, 0x7fffffff)			# fde_count
    for i in range((hdr["size"] - 12) // 8):
        e.set_u32(hdr["offset"] + 12 + 8 * i + 4, 0x7ffffff0)	# each FDE pointer
    e.save(files[LIBC_IN_ROOT])
    how, rep = run_in_root(root)
    assert how == "traced"
    assert_table_ok(rep, LIBC_IN_ROOT)
    assert rep["totals"]["unwind_no_table"] == 0, rep["totals"]


def test_hostile_section_headers_past_eof():
    """libc's section header table starts past the end of the file (the
    loader does not read it): without sections memtrace finds no symbol
    table, hence no malloc in any module, and refuses with one line ("no
    allocator found"); the target runs on untouched."""
    root, files = make_root()
    e = elfpatch.Elf(files[LIBC_IN_ROOT])
    e.set_ehdr(shoff=len(e.b) + 0x10000)
    e.save(files[LIBC_IN_ROOT])
    how, got = run_in_root(root)
    assert how == "refused", got
    assert "libc" in got[0] or "malloc" in got[0], got


def test_hostile_exe_truncated():
    """The executable cut right after its last loaded byte: its section
    headers, .symtab and .strtab are past the end of the file. It runs;
    its table fails (no .eh_frame header to find) and is counted, and
    libc's stacks are still exact."""
    root, files = make_root()
    e = elfpatch.Elf(files["/t/alloc_kinds"])
    loaded = max(s["offset"] + s["size"] for s in e.sections.values()
                 if s["flags"] & 2 and s["type"] != 8)	# SHF_ALLOC, not NOBITS
    e.save(files["/t/alloc_kinds"], size=loaded)
    how, rep = run_in_root(root, symbols=False)
    assert how == "traced"
    assert_table_failed(rep, "/t/alloc_kinds", "No data available")


def test_hostile_symtab_strings_off_the_end():
    """The executable's .strtab loses its final NUL and every other symbol's
    name points at its last byte or past its end: those names are not
    read (libelf checks each against the table's end); the stacks are
    exact and named (leak_malloc from DWARF), every table built."""
    root, files = make_root()
    e = elfpatch.Elf(files["/t/alloc_kinds"])
    strtab, symtab = e.section(".strtab"), e.section(".symtab")
    e.patch(strtab["offset"] + strtab["size"] - 1, b"A")
    n = symtab["size"] // 24
    for i in range(1, n, 2):	# every other symbol: last byte, or past the end
        name = strtab["size"] - 1 if i % 4 == 1 else strtab["size"] + 0x1000 * i
        e.patch(symtab["offset"] + 24 * i, struct.pack("<I", name & 0xffffffff))
    e.save(files["/t/alloc_kinds"])
    how, rep = run_in_root(root)
    assert how == "traced"
    assert rep["totals"]["unwind_no_table"] == 0, rep["totals"]


def test_hostile_symbol_names_tamed():
    """The executable names leak_malloc "leak\\nmal;oc" (.strtab and DWARF's
    strings alike): the frame is named "leak?mal:oc", so no writer's lines
    (text, CSV) or frames (collapsed, CSV stacks) can be forged by a name;
    the bytes are exact at it."""
    root, files = make_root()
    path = files["/t/alloc_kinds"]
    with open(path, "rb") as f:
        data = f.read()
    n = data.count(b"leak_malloc\0")
    assert n >= 2, f"leak_malloc in {n} string tables"	# .strtab and .debug_str
    with open(path, "wb") as f:
        f.write(data.replace(b"leak_malloc\0", b"leak\nmal;oc\0"))
    how, rep = run_in_root(root, symbols=False)
    assert how == "traced"
    names = [fr.get("function") or "" for s in rep["stacks"] for fr in s["frames"]]
    assert "leak?mal:oc" in names, lib.describe(rep)
    assert not [x for x in names if ";" in x or any(ord(c) < 0x20 for c in x)], names
    lib.check_stack(rep, "leak?mal:oc", "malloc", anywhere=True, outstanding_bytes=LEAK_BYTES)
