#!/usr/bin/python3
"""Independent ZIP reference for paw's program bundles, using only Python's zipfile.

  zip_check.py inspect ZIP            -> JSON description of every member (order, sizes,
                                         compression, date_time, unix mode, sha256), after
                                         zipfile's own CRC check (testzip)
  zip_check.py make OUT SPEC.json     -> writes a ZIP from a spec: a list of members
        {"name": str, "file": path | "text": str | "zeros": n,
         "compress": "store"|"deflate"|"bzip2", "symlink": bool, "mode": int, "dir": bool}
  zip_check.py bomb IN OUT NAME SIZE  -> copies IN with member NAME's declared uncompressed
                                         size rewritten to SIZE (local header and central
                                         directory), making it inflate past what it declares
  zip_check.py program-id DIR         -> paw's content program id of a bundle folder,
                                         computed from the recipe in docs/FORMATS.md
"""
import hashlib
import json
import struct
import sys
import warnings
import zipfile


def inspect(path):
    with zipfile.ZipFile(path) as zf:
        bad = zf.testzip()
        members = []
        for info in zf.infolist():
            data = zf.read(info)
            members.append({
                "name": info.filename,
                "size": info.file_size,
                "compress_type": info.compress_type,
                "date_time": list(info.date_time),
                "create_system": info.create_system,
                "mode": info.external_attr >> 16,
                "extra_len": len(info.extra),
                "sha256": hashlib.sha256(data).hexdigest(),
            })
        print(json.dumps({"testzip": bad, "comment": zf.comment.decode("latin-1"), "members": members}))


def make(out, spec_path):
    with open(spec_path) as f:
        spec = json.load(f)
    warnings.simplefilter("ignore")  # duplicate names are made on purpose
    with zipfile.ZipFile(out, "w") as zf:
        for m in spec:
            if "file" in m:
                with open(m["file"], "rb") as f:
                    data = f.read()
            elif "zeros" in m:
                data = bytes(m["zeros"])
            else:
                data = m.get("text", "").encode("utf-8")
            info = zipfile.ZipInfo(m["name"], date_time=(2024, 5, 1, 12, 0, 0))
            info.compress_type = {"deflate": zipfile.ZIP_DEFLATED, "store": zipfile.ZIP_STORED,
                                  "bzip2": zipfile.ZIP_BZIP2}[m.get("compress", "deflate")]
            info.create_system = 3
            if m.get("symlink"):
                info.external_attr = (0o120777 << 16)
            elif m.get("dir"):
                info.external_attr = (0o040755 << 16) | 0x10
            else:
                info.external_attr = (m.get("mode", 0o100644) << 16)
            zf.writestr(info, data)


def bomb(src, dst, name, size):
    with open(src, "rb") as f:
        buf = bytearray(f.read())
    with zipfile.ZipFile(src) as zf:
        info = zf.getinfo(name)
    # Local file header: uncompressed size at offset 22.
    off = info.header_offset
    assert buf[off:off + 4] == b"PK\x03\x04"
    struct.pack_into("<I", buf, off + 22, size)
    # Central directory entry naming the member: uncompressed size at offset 24.
    needle = name.encode()
    pos = 0
    while True:
        pos = buf.find(b"PK\x01\x02", pos)
        assert pos >= 0, "central directory entry not found"
        nlen = struct.unpack_from("<H", buf, pos + 28)[0]
        if bytes(buf[pos + 46:pos + 46 + nlen]) == needle:
            struct.pack_into("<I", buf, pos + 24, size)
            break
        pos += 4
    with open(dst, "wb") as f:
        f.write(buf)


def program_id(folder):
    with open(folder + "/meta.json", "rb") as f:
        meta = json.loads(f.read().decode("utf-8"))
    meta.pop("program_id", None)
    canon = json.dumps(meta, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    h = hashlib.sha256(b"paw-program-v1\0")
    members = [("meta.json", canon)]
    for name in ("prompt_template.txt", "adapter.gguf"):
        with open(folder + "/" + name, "rb") as f:
            members.append((name, f.read()))
    for name, data in members:
        h.update(name.encode() + b"\0" + struct.pack("<Q", len(data)) + data)
    print(h.hexdigest()[:32])


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "inspect":
        inspect(sys.argv[2])
    elif cmd == "make":
        make(sys.argv[2], sys.argv[3])
    elif cmd == "bomb":
        bomb(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    elif cmd == "program-id":
        program_id(sys.argv[2])
    else:
        sys.exit("unknown command " + cmd)
