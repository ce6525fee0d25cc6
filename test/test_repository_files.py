"""What git tracks: no binary file outside the folders that hold models, data and pictures.

A build leftover (a wheel, an archive, a compiled object) committed by accident ships to every
user and is referenced by nothing; this fails on any tracked file with binary content (a NUL
byte in its first 8 KiB) or an archive/compiled suffix outside :data:`BINARY_FOLDERS`.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
#: Folders whose tracked files may be binary: shipped models, bundled data, doc pictures.
BINARY_FOLDERS = (
    "pose_lifter/models/",
    "pose_lifter/runtime/detection/models/",
    "pose_lifter/sample_data/",
    "training/data/",
    "doc/images/",
)
#: Suffixes that are never source, wherever they are.
ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".tgz", ".zip", ".egg", ".so", ".pyc", ".o", ".a")


def tracked_files() -> list[str]:
    listing = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "-z"], check=True, capture_output=True
    ).stdout
    return [name for name in listing.decode().split("\0") if name]


def is_binary(path: Path) -> bool:
    with open(path, "rb") as handle:
        return b"\0" in handle.read(8192)


def misplaced_binaries(names: list[str], root: Path) -> list[str]:
    """Return the tracked ``names`` (relative to ``root``) binary outside BINARY_FOLDERS."""
    found = []
    for name in names:
        if name.startswith(BINARY_FOLDERS):
            continue
        path = root / name
        if name.endswith(ARCHIVE_SUFFIXES) or (path.is_file() and is_binary(path)):
            found.append(name)
    return found


def test_no_tracked_binaries_outside_model_and_data_folders():
    names = tracked_files()
    assert "package.xml" in names  # the listing is the repository's
    assert misplaced_binaries(names, REPO) == []


def test_the_check_finds_a_wheel_and_a_binary_blob(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "black-26.10.1-py3-none-any.whl").write_bytes(b"PK\x03\x04 text-looking")
    (tmp_path / "pkg" / "blob.dat").write_bytes(b"abc\0def")
    (tmp_path / "pkg" / "ok.py").write_text("print('hi')\n")
    names = ["black-26.10.1-py3-none-any.whl", "pkg/blob.dat", "pkg/ok.py"]
    assert misplaced_binaries(names, tmp_path) == names[:2]
