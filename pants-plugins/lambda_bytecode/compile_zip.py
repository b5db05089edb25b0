"""Add compiled bytecode to a Lambda zip: run by the `python_awslambda` rule of this plugin.

Runs on the Lambda runtime's Python version (the rule finds that interpreter), not on Pants's
own, because a .pyc is only valid for the interpreter version that wrote it.

    python compile_zip.py <zip> <major.minor>

Every .py member gets `__pycache__/<name>.cpython-XY.pyc` beside it, compiled with the
unchecked-hash invalidation mode (PEP 552): the function's code is immutable once deployed,
so the importer uses the .pyc without reading the source or comparing timestamps (which a
zip's 2-second DOS times and Pants's normalized timestamps would not match anyway). Without
it, every cold start compiles every module again, as /var/task is read-only.
"""

import os
import py_compile
import sys
import tempfile
import zipfile

# Fixed, so the same inputs give the same zip (Pants caches and compares by content).
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def pyc_name(member: str) -> str:
    directory, _, filename = member.rpartition("/")
    cached = f"__pycache__/{filename[:-3]}.{sys.implementation.cache_tag}.pyc"
    return f"{directory}/{cached}" if directory else cached


def pyc_bytes(source: bytes, member: str, scratch: str) -> bytes:
    """The unchecked-hash .pyc of one module (py_compile works on files, hence scratch)."""
    source_path, pyc_path = os.path.join(scratch, "module.py"), os.path.join(scratch, "module.pyc")
    with open(source_path, "wb") as file:
        file.write(source)
    py_compile.compile(
        source_path,
        cfile=pyc_path,
        dfile=member,  # what tracebacks name until the importer fixes up the real path
        doraise=True,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    with open(pyc_path, "rb") as file:
        return file.read()


def main(path: str, version: str) -> int:
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if running != version:
        print(f"compile_zip: runs on Python {running}, the zip is for {version}", file=sys.stderr)
        return 2
    with zipfile.ZipFile(path) as original:
        members = [(info, original.read(info)) for info in original.infolist()]
    names = {info.filename for info, _ in members}
    failed = []
    compiled = []
    with tempfile.TemporaryDirectory() as scratch:
        for info, data in members:
            if not info.filename.endswith(".py") or pyc_name(info.filename) in names:
                continue
            try:
                compiled.append((pyc_name(info.filename), pyc_bytes(data, info.filename, scratch)))
            except py_compile.PyCompileError as exc:
                failed.append(f"{info.filename}: {exc.msg}")
    if failed:
        print("compile_zip: cannot compile\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as rewritten:
        for info, data in members:
            rewritten.writestr(info, data)
        for name, data in sorted(compiled):
            entry = zipfile.ZipInfo(name, _ZIP_EPOCH)
            entry.external_attr = 0o644 << 16  # readable by the runtime's user, as the sources
            entry.compress_type = zipfile.ZIP_DEFLATED
            rewritten.writestr(entry, data)
    print(f"compile_zip: {len(compiled)} modules compiled for Python {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
