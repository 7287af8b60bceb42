"""Zip uploads of class folders (`<class>/<image>`), checked before a byte is extracted: size,
entry count, paths (no absolute paths, no `..`, no links), total uncompressed size and the
compression ratio (zip bombs). Extraction goes to a private temporary folder."""
from __future__ import annotations

import re
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from core.checks import Invalid
from core.samples import IMAGE_SUFFIXES

MAX_ENTRIES = 5000
MAX_TOTAL_BYTES = 512 * 1024 * 1024
MAX_ENTRY_BYTES = 32 * 1024 * 1024
MAX_RATIO = 100  # images barely compress; a far higher ratio is a bomb


def check_zip(path: Path) -> list[zipfile.ZipInfo]:
    """The image entries to extract; raises Invalid with the reason otherwise."""
    if not zipfile.is_zipfile(path):
        raise Invalid("the upload is not a zip file")
    with zipfile.ZipFile(path) as archive:
        entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise Invalid(f"the zip has {len(entries)} entries; at most {MAX_ENTRIES}")
    total = 0
    images = []
    for info in entries:
        name = PurePosixPath(info.filename)
        if info.filename.startswith(("/", "\\")) or ".." in name.parts or ":" in name.parts[0]:
            raise Invalid(f"unsafe path in zip: {info.filename!r}")
        if stat.S_ISLNK(info.external_attr >> 16):
            raise Invalid(f"links are not allowed in the zip: {info.filename!r}")
        total += info.file_size
        if info.file_size > MAX_ENTRY_BYTES or total > MAX_TOTAL_BYTES:
            raise Invalid("the zip expands to more than allowed")
        if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
            raise Invalid(f"{info.filename!r} is compressed {info.file_size // info.compress_size}:1; refused as a zip bomb")
        if info.is_dir() or name.suffix.lower() not in IMAGE_SUFFIXES or name.name.startswith("."):
            continue
        if len(name.parts) < 2:
            raise Invalid(f"{info.filename!r} is not inside a class folder (<class>/<image>)")
        images.append(info)
    labels = {PurePosixPath(i.filename).parts[-2] for i in images}
    if len(labels) < 1 or not images:
        raise Invalid("the zip holds no images in class folders")
    return images


def extract(path: Path, into: Path) -> Path:
    """Extract the checked images to a new folder `<into>/<tmp>/<class>/<image>`; returns it."""
    images = check_zip(path)
    into.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="upload-", dir=into))
    with zipfile.ZipFile(path) as archive:
        for n, info in enumerate(images):
            parts = PurePosixPath(info.filename).parts
            # Index first (names may repeat across sub-folders), then the original name for messages.
            dest = target / parts[-2] / f"{n:05d}-{re.sub(r'[^A-Za-z0-9._-]', '_', parts[-1])}"
            dest.parent.mkdir(exist_ok=True)
            with archive.open(info) as src, open(dest, "wb") as out:
                # Read at most the declared size: a lying header cannot write more.
                data = src.read(info.file_size + 1)
                if len(data) > info.file_size:
                    raise Invalid(f"{info.filename!r} is larger than its header says")
                out.write(data)
    return target
