"""Zip uploads read safely, for every importer (class-folder zips, Teachable Machine exports).

A zip is checked from its central directory before a byte is decompressed (entry count, declared
sizes, compression ratio), then every member is read with a hard cap (at most its declared size
and the caller's limit, so a header that lies cannot make it expand further). Any corrupt or
unreadable archive is an Invalid with a clear message, never a 500. Decompression is CPU-bound
and runs off the event loop (`off_loop`), so other requests are not stalled while it runs.
"""
from __future__ import annotations

import zipfile
import zlib

from core.checks import Invalid

# What zipfile and zlib raise for a damaged, truncated, encrypted or unsupported archive.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
              NotImplementedError, RuntimeError, OSError)
CHUNK = 1 << 20


def open_zip(source) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except ZIP_ERRORS:
        raise Invalid("the upload is not a zip file (or it is damaged)") from None


def check_sizes(entries: list[zipfile.ZipInfo], max_entries: int, max_entry: int, max_total: int,
                max_ratio: float) -> None:
    """The central directory's declared sizes against the limits (zip bombs)."""
    if len(entries) > max_entries:
        raise Invalid(f"the zip has {len(entries)} entries; at most {max_entries}")
    total = 0
    for info in entries:
        total += info.file_size
        if info.file_size > max_entry or total > max_total:
            raise Invalid(f"the zip expands to more than allowed ({max_total // (1024 * 1024)} MB)")
        if info.file_size > 1024 and info.file_size > max_ratio * max(info.compress_size, 1):
            raise Invalid(f"{info.filename!r} is compressed {info.file_size // max(info.compress_size, 1)}:1; "
                          "refused as a zip bomb")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, out=None) -> bytes | None:
    """One member's bytes (or written to the file `out`), at most min(declared size, limit):
    reading stops as soon as more comes out. Corrupt data is an Invalid."""
    cap = min(info.file_size, limit)
    got, parts = 0, []
    try:
        with archive.open(info) as src:
            while True:
                chunk = src.read(min(CHUNK, cap + 1 - got))
                if not chunk:
                    break
                got += len(chunk)
                if got > cap:
                    raise Invalid(f"{info.filename!r} is larger than its header says (or than allowed)")
                if out is None:
                    parts.append(chunk)
                else:
                    out.write(chunk)
    except ZIP_ERRORS as exc:
        raise Invalid(f"{info.filename!r} in the zip is corrupt ({exc.__class__.__name__})") from None
    return b"".join(parts) if out is None else None


def off_loop(fn, *args):
    """Run `fn(*args)` in a real OS thread when the server runs on eventlet (zlib releases the
    GIL while it inflates), so the event loop keeps serving; otherwise just call it."""
    try:
        from eventlet import patcher, tpool
    except ImportError:
        return fn(*args)
    if not patcher.is_monkey_patched("thread"):
        return fn(*args)
    return tpool.execute(fn, *args)
