"""Corrupt copies of real ELF files for the hostile-binary tests
(test_hostile.py): find sections by name in an ELF64 little-endian file
and overwrite bytes of the file, its header or its section headers.

Only what the tests need: no writing of new sections, no 32-bit files.
"""
import os
import struct

EHDR = struct.Struct("<16sHHIQQQIHHHHHH")
SHDR = struct.Struct("<IIQQQQIIQQ")
SHDR_FIELDS = ("name", "type", "flags", "addr", "offset", "size", "link", "info",
               "addralign", "entsize")


class Elf:
    """An ELF file's bytes, read whole; patch() them, save() to a path."""

    def __init__(self, path):
        with open(path, "rb") as f:
            self.b = bytearray(f.read())
        h = EHDR.unpack_from(self.b, 0)
        assert h[0][:4] == b"\x7fELF" and h[0][4] == 2 and h[0][5] == 1, path
        self.shoff, self.shentsize, self.shnum, self.shstrndx = h[6], h[11], h[12], h[13]
        self.sections = {}
        strtab = self._shdr(self.shstrndx)
        for i in range(self.shnum):
            sh = self._shdr(i)
            end = self.b.index(b"\0", strtab["offset"] + sh["name"])
            sh["index"] = i
            self.sections[self.b[strtab["offset"] + sh["name"]:end].decode()] = sh

    def _shdr(self, i):
        return dict(zip(SHDR_FIELDS, SHDR.unpack_from(self.b, self.shoff + i * self.shentsize)))

    def section(self, name):
        """The section header called name, as a dict (with its index)."""
        return self.sections[name]

    def data(self, name):
        s = self.sections[name]
        return bytes(self.b[s["offset"]:s["offset"] + s["size"]])

    def patch(self, off, data):
        self.b[off:off + len(data)] = data

    def set_u32(self, off, v):
        self.patch(off, struct.pack("<I", v))

    def set_shdr(self, name, **fields):
        """Overwrite fields of a section header (name=..., size=...)."""
        s = self.sections[name]
        s.update(fields)
        SHDR.pack_into(self.b, self.shoff + s["index"] * self.shentsize,
                       *(s[k] for k in SHDR_FIELDS))

    def set_ehdr(self, **fields):
        """Overwrite e_shoff / e_shnum / e_shstrndx."""
        offs = {"shoff": (0x28, "<Q"), "shnum": (0x3c, "<H"), "shstrndx": (0x3e, "<H")}
        for k, v in fields.items():
            at, fmt = offs[k]
            struct.pack_into(fmt, self.b, at, v)

    def eh_frame_entries(self):
        """(offset in the file, length, is_cie) of each .eh_frame entry."""
        s = self.sections[".eh_frame"]
        off, end, out = s["offset"], s["offset"] + s["size"], []
        while off + 8 <= end:
            length, cie_id = struct.unpack_from("<II", self.b, off)
            if length == 0:
                break
            out.append((off, length, cie_id == 0))
            off += 4 + length
        return out

    def save(self, path, size=None):
        """Write the bytes (the first size of them) to path, mode 0755."""
        with open(path, "wb") as f:
            f.write(self.b[:size] if size is not None else self.b)
        os.chmod(path, 0o755)
