#!/usr/bin/python3
"""Independent checker of the reference SDK's rules for program folders and runtime manifests,
written from docs/FORMATS.md ("Runtime manifest" -> "Validity rules"), not from paw's code
nor the SDK's. Standard library only (Debian /usr/bin/python3).

  manifest_check.py manifest FILE.json [--require-local]
      one runtime manifest; prints "ok" or the broken rule (exit 1)
  manifest_check.py program DIR [--id ID]
      a cached program folder (ID defaults to the folder's name); prints a JSON report
      {"valid", "problem", "runtime_id", "reference_runs_locally"} and exits 1 when not valid
  manifest_check.py bundle X.paw
      a .paw file: its members are checked as a program filed under meta.json's program_id
  manifest_check.py cache DIR
      every program folder under DIR/programs/ (names that are program ids); one JSON report
      per line, "id" added; exits 1 when any is not valid
"""
import json
import os
import re
import sys
import tempfile
import zipfile

PLACEHOLDER = "{INPUT_PLACEHOLDER}"
ID_RE = re.compile(r"[a-f0-9]{16,64}")
RUNTIME_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
HEX64_RE = re.compile(r"[0-9a-fA-F]{64}")


def hf(repo, name):
    return "https://huggingface.co/%s/resolve/main/%s" % (repo, name)


def canonical(runtime_id):
    """The two canonical runtimes, from the table in docs/FORMATS.md."""
    if runtime_id == "qwen3-0.6b-q6_k":
        repo, name = "programasweights/Qwen3-0.6B-GGUF-Q6_K", "qwen3-0.6b-q6_k.gguf"
        interp, size = "Qwen/Qwen3-0.6B", 622733120
        sha = "9a16ed5cacba959e63b62e2b6840c3eca2b51c3c3e51d31367ef8e4aafeae33c"
        base_template = ("<|im_start|>user\n" + PLACEHOLDER +
                         "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n")
        prefix_cache = False
    elif runtime_id == "gpt2-q8_0":
        repo, name = "programasweights/GPT2-GGUF-Q8_0", "gpt2-q8_0.gguf"
        interp, size = "gpt2", 139804832
        sha = "0aa260efb2cce9def922e0546b88ad731cf1a68554db73fa2d4a0949cfa958c5"
        base_template = PLACEHOLDER
        prefix_cache = True
    else:
        return None
    base = {"provider": "huggingface", "repo": repo, "file": name, "url": hf(repo, name),
            "size_bytes": size, "sha256": sha}
    return {
        "interpreter": interp, "manifest_version": 1, "adapter_format": "gguf_lora",
        "local_sdk": {"supported": True, "n_ctx": 2048, "base_model": base},
        "prompt_template": {"format": "rendered_text", "placeholder": PLACEHOLDER},
        "program_assets": {
            "adapter_filename": "adapter.gguf",
            "prefix_cache_required": prefix_cache,
            "prefix_cache_filename": "prefix_cache.bin" if prefix_cache else None,
            "prefix_tokens_filename": "prefix_tokens.json" if prefix_cache else None,
        },
        "base_inference": {"contract_version": 1, "format": "rendered_text",
                           "placeholder": PLACEHOLDER, "template": base_template},
    }


INTERPRETER_RUNTIME = {"Qwen/Qwen3-0.6B": "qwen3-0.6b-q6_k", "gpt2": "gpt2-q8_0"}


def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def is_plain_name(name):
    return (isinstance(name, str) and name not in ("", ".") and "/" not in name
            and os.path.basename(name) == name)


class Broken(Exception):
    pass


def need(cond, rule):
    if not cond:
        raise Broken(rule)


def check_manifest(m, require_local=False):
    """Raises Broken with the first rule `m` breaks."""
    need(isinstance(m, dict), "a runtime manifest is an object")
    rid = m.get("runtime_id")
    need(isinstance(rid, str) and RUNTIME_ID_RE.fullmatch(rid), "runtime_id matches [A-Za-z0-9][A-Za-z0-9._-]*")
    need(is_int(m.get("manifest_version")) and m["manifest_version"] == 1, "manifest_version is the integer 1")
    need(isinstance(m.get("interpreter"), str) and m["interpreter"] != "", "interpreter is a non-empty string")
    need(m.get("adapter_format") == "gguf_lora", "adapter_format is gguf_lora")
    pt = m.get("prompt_template")
    if pt is not None:
        need(isinstance(pt, dict) and pt.get("format") == "rendered_text" and pt.get("placeholder") == PLACEHOLDER,
             "prompt_template is {format: rendered_text, placeholder: {INPUT_PLACEHOLDER}}")
    pa = m.get("program_assets")
    if pa is not None:
        need(isinstance(pa, dict) and pa.get("adapter_filename") == "adapter.gguf",
             "program_assets.adapter_filename is adapter.gguf")
    sdk = m.get("local_sdk")
    need(isinstance(sdk, dict), "local_sdk is an object")
    need(isinstance(sdk.get("supported"), bool), "local_sdk.supported is a boolean")
    n_ctx = sdk.get("n_ctx")
    need(n_ctx is None or (is_int(n_ctx) and n_ctx > 0), "local_sdk.n_ctx is null or a positive integer")
    base = sdk.get("base_model")
    if sdk["supported"] or require_local:
        need(isinstance(base, dict), "local_sdk.base_model is an object")
        need(is_plain_name(base.get("file")), "local_sdk.base_model.file is a plain file name")
        for key in ("provider", "repo", "url"):
            need(base.get(key) is None or isinstance(base[key], str), "local_sdk.base_model.%s is a string or null" % key)
        need(bool(base.get("url")) or (base.get("provider") == "huggingface" and bool(base.get("repo"))),
             "local_sdk.base_model has a url, or provider huggingface and a repo")
        sha = base.get("sha256")
        need(sha is None or (isinstance(sha, str) and HEX64_RE.fullmatch(sha)), "local_sdk.base_model.sha256 is 64 hex digits or null")
        size = base.get("size_bytes")
        need(size is None or (is_int(size) and size > 0), "local_sdk.base_model.size_bytes is a positive integer or null")
    else:
        need(base is None or isinstance(base, dict), "local_sdk.base_model is an object or null")
    bi = m.get("base_inference")
    if bi is not None:
        need(isinstance(bi, dict) and bi.get("contract_version") == 1 and bi.get("format") == "rendered_text"
             and bi.get("placeholder") == PLACEHOLDER, "base_inference is contract 1, rendered_text, {INPUT_PLACEHOLDER}")
        need(isinstance(bi.get("template"), str) and bi["template"].count(PLACEHOLDER) == 1,
             "base_inference.template holds the placeholder once")

    want = canonical(rid)
    if want is None:
        return
    for key in ("interpreter", "manifest_version", "adapter_format"):
        need(m.get(key) == want[key], "%s is %r for %s" % (key, want[key], rid))
    need(sdk.get("supported") is True and sdk.get("n_ctx") == 2048, "local_sdk is supported with n_ctx 2048 for " + rid)
    need(isinstance(base, dict), "local_sdk.base_model is an object for " + rid)
    wbase = want["local_sdk"]["base_model"]
    need(base.get("file") == wbase["file"], "local_sdk.base_model.file is %s for %s" % (wbase["file"], rid))
    for key in ("provider", "repo", "url", "size_bytes", "sha256"):
        need(base.get(key) is None or base[key] == wbase[key], "local_sdk.base_model.%s is %r or null for %s" % (key, wbase[key], rid))
    for section in ("prompt_template", "program_assets", "base_inference"):
        got = m.get(section)
        if got is None:
            continue
        for key, value in want[section].items():
            need(key not in got or got[key] == value, "%s.%s is %r for %s" % (section, key, value, rid))


def manifest_problem(m, require_local=False):
    try:
        check_manifest(m, require_local)
        return None
    except Broken as e:
        return str(e)


def regular_file(path):
    return os.path.isfile(path) and not os.path.islink(path)


def check_program(folder, program_id):
    """Raises Broken, else returns the parsed meta.json."""
    need(ID_RE.fullmatch(program_id or ""), "the program id is 16-64 lowercase hex digits")
    need(os.path.isdir(folder) and not os.path.islink(folder), "the program is a folder")
    adapter = os.path.join(folder, "adapter.gguf")
    template = os.path.join(folder, "prompt_template.txt")
    meta_path = os.path.join(folder, "meta.json")
    need(regular_file(adapter) and os.path.getsize(adapter) >= 1024, "adapter.gguf is a file of at least 1024 bytes")
    with open(adapter, "rb") as f:
        need(f.read(4) == b"GGUF", "adapter.gguf starts with GGUF")
    for p in (template, meta_path):
        need(regular_file(p) and os.path.getsize(p) > 0, "%s is a non-empty file" % os.path.basename(p))
    try:
        with open(template, encoding="utf-8") as f:
            text = f.read()
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (UnicodeDecodeError, ValueError) as e:
        raise Broken("template and meta.json are UTF-8 and meta.json is JSON (%s)" % e)
    need(text.count(PLACEHOLDER) == 1, "the template holds {INPUT_PLACEHOLDER} once")
    need(isinstance(meta, dict), "meta.json is an object")
    need(meta.get("program_id") == program_id, "meta.json program_id is the folder's id")
    need(isinstance(meta.get("interpreter"), str) and meta["interpreter"] != "", "meta.json interpreter is a non-empty string")
    rid = meta.get("runtime_id")
    need(rid is None or (isinstance(rid, str) and RUNTIME_ID_RE.fullmatch(rid)), "meta.json runtime_id is null or a runtime id")
    rmv = meta.get("runtime_manifest_version")
    need(rmv is None or (is_int(rmv) and rmv == 1), "meta.json runtime_manifest_version is null or 1")
    runtime = meta.get("runtime")
    if runtime is not None and runtime != {}:
        problem = manifest_problem(runtime)
        need(problem is None, "runtime manifest: %s" % problem)
        need(not isinstance(rid, str) or runtime["runtime_id"] == rid, "runtime.runtime_id is meta.json runtime_id")
    return meta


def usable_for(manifest, meta):
    """Whether the reference would run `meta` on `manifest` (a base model it can use)."""
    if manifest_problem(manifest, require_local=True) is not None:
        return False
    if meta.get("runtime_id") and manifest["runtime_id"] != meta["runtime_id"]:
        return False
    if meta.get("interpreter") and manifest["interpreter"] != meta["interpreter"]:
        return False
    if meta.get("runtime_manifest_version") is not None and manifest["manifest_version"] != meta["runtime_manifest_version"]:
        return False
    return True


def offline_runtime(meta):
    """The manifest the reference picks without network (cached runtime files aside)."""
    runtime = meta.get("runtime")
    if isinstance(runtime, dict) and usable_for(runtime, meta):
        return runtime
    rid = INTERPRETER_RUNTIME.get(meta.get("interpreter"))
    if rid:
        m = dict(canonical(rid), runtime_id=rid)
        if usable_for(m, meta):
            return m
    return None


def report(folder, program_id):
    try:
        meta = check_program(folder, program_id)
    except Broken as e:
        return {"valid": False, "problem": str(e), "runtime_id": None, "reference_runs_locally": False}
    rt = offline_runtime(meta)
    return {"valid": True, "problem": None, "runtime_id": rt["runtime_id"] if rt else None,
            "reference_runs_locally": bool(rt and rt["local_sdk"]["supported"])}


def main(argv):
    if len(argv) >= 2 and argv[0] == "manifest":
        with open(argv[1], encoding="utf-8") as f:
            problem = manifest_problem(json.load(f), "--require-local" in argv[2:])
        print(problem or "ok")
        return 1 if problem else 0
    if len(argv) >= 2 and argv[0] == "program":
        folder = argv[1].rstrip("/")
        pid = argv[argv.index("--id") + 1] if "--id" in argv else os.path.basename(folder)
        r = report(folder, pid)
        print(json.dumps(r, sort_keys=True))
        return 0 if r["valid"] else 1
    if len(argv) == 2 and argv[0] == "bundle":
        with tempfile.TemporaryDirectory() as tmp:
            with zipfile.ZipFile(argv[1]) as z:
                for name in ("meta.json", "prompt_template.txt", "adapter.gguf"):
                    with open(os.path.join(tmp, name), "wb") as out:
                        out.write(z.read(name))
            with open(os.path.join(tmp, "meta.json"), encoding="utf-8") as f:
                pid = json.load(f).get("program_id")
            r = report(tmp, pid if isinstance(pid, str) else "")
        print(json.dumps(r, sort_keys=True))
        return 0 if r["valid"] else 1
    if len(argv) == 2 and argv[0] == "cache":
        programs = os.path.join(argv[1], "programs")
        bad = 0
        for name in sorted(os.listdir(programs)):
            if not ID_RE.fullmatch(name):
                continue
            r = report(os.path.join(programs, name), name)
            r["id"] = name
            bad += not r["valid"]
            print(json.dumps(r, sort_keys=True))
        return 1 if bad else 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
