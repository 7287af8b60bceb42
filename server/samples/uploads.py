"""Zip uploads of class folders (`<class>/<image>`), checked before a byte is extracted: size,
entry count, paths (no absolute paths, no `..`, no links), total uncompressed size and the
compression ratio (zip bombs). Extraction goes to a private temporary folder."""
from __future__ import annotations

import re
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from core.checks import Invalid
from core.samples import IMAGE_SUFFIXES

from .. import zips

MAX_ENTRIES = 5000
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ENTRY_BYTES = 32 * 1024 * 1024
MAX_RATIO = 100  # images barely compress; a far higher ratio is a bomb


def check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """The image entries to extract; raises Invalid with the reason otherwise."""
    with zips.open_zip(path) as archive:
        entries = archive.infolist()
    zips.check_sizes(entries, MAX_ENTRIES, MAX_ENTRY_BYTES, MAX_TOTAL_BYTES, MAX_RATIO)
    images = []
    for info in entries:
        name = PurePosixPath(info.filename)
        if info.filename.startswith(("/", "\\")) or ".." in name.parts or not name.parts or ":" in name.parts[0]:
            raise Invalid(f"unsafe path in zip: {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Invalid(f"links are not allowed in the zip: {info.filename!r}")
        if info.is_dir() or name.suffix.lower() not in IMAGE_SUFFIXES or name.name.startswith("."):
            continue
        if len(name.parts) < 2:
            raise Invalid(f"{info.filename!r} is not inside a class folder (<class>/<image>)")
        images.append(info)
    if not images:
        raise Invalid("the zip holds no images in class folders")
    return images


def extract(path: Path, into: Path) -> Path:
    """Extract the checked images to a new folder `<into>/<tmp>/<class>/<image>`; returns it.
    Whatever goes wrong (a lying header, corrupt data), nothing is left behind."""
    images = check_zip(path)
    into.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="upload-", dir=into))
    try:
        with zips.open_zip(path) as archive:
            for n, info in enumerate(images):
                parts = PurePosixPath(info.filename).parts
                # Index first (names may repeat across sub-folders), then the original name for messages.
                dest = target / parts[-2] / f"{n:05d}-{re.sub(r'[^A-Za-z0-9._-]', '_', parts[-1])}"
                dest.parent.mkdir(exist_ok=True)
                with open(dest, "wb") as out:
                    # At most the declared size: a lying header cannot write more.
                    zips.read_member(archive, info, MAX_ENTRY_BYTES, out)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target
