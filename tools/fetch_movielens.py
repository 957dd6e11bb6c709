"""Fetch MovieLens-100k for the book, from the wheel of the PyPI package recbole 1.2.1.

Usage, from the repository root (``make data`` runs it)::

    .venv/bin/python tools/fetch_movielens.py [--dest data/ml-100k]

The MovieLens licence forbids redistributing the data, so the repository does
not contain them.  The wheel ``recbole-1.2.1-py3-none-any.whl`` on PyPI ships a
copy of MovieLens-100k (Harper and Konstan 2015) in RecBole's atomic-file
format.  This script

1. does nothing (and needs no network) if both files already exist in the
   destination with the expected SHA-256;
2. otherwise runs ``python -m pip download --no-deps --only-binary=:all:
   recbole==1.2.1`` with the Python that runs this script, into a temporary
   folder (pip uses its ordinary configuration and index);
3. checks the wheel's SHA-256, opens it as a zip archive and extracts only
   ``ml-100k.inter`` (the 100,000 ratings) and ``ml-100k.item`` (titles, years,
   genres), checks the SHA-256 of each, and writes them to the destination
   (each through a temporary file renamed into place, so an interrupted run
   never leaves a half-written file under the final name).

RecBole itself is never installed.  The default destination is
``$COSSIM_DATA_DIR/ml-100k`` when that environment variable is set, else
``data/ml-100k`` under the repository root (git-ignored): the folder that
``cossim.datasets.load_movielens_100k()`` reads by default.

Exit status 0 on success, 1 with a one-line message on stderr otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "recbole==1.2.1"
WHEEL_NAME = "recbole-1.2.1-py3-none-any.whl"
#: SHA-256 of the wheel as published on PyPI.
WHEEL_SHA256 = "9c9948202011f37eb0a7c6768129313f00d6403ad221ec940d5e2d5d5f33a407"
#: Where the two files sit inside the wheel.
MEMBER_FOLDER = "recbole/dataset_example/ml-100k/"
#: SHA-256 of each extracted file (cossim.datasets.MOVIELENS_100K_SHA256 holds the same; a test checks it).
FILE_SHA256 = {
    "ml-100k.inter": "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff",
    "ml-100k.item": "51d7cdf777ce5c0f5b32c1d947a4a81fe07d75e78abbe761e0cd4d0756064532",
}

ROOT = Path(__file__).resolve().parent.parent


class FetchError(RuntimeError):
    """Anything that stops the fetch; its message is printed as one line."""


def default_destination() -> Path:
    """``$COSSIM_DATA_DIR/ml-100k`` if set, else ``data/ml-100k`` under the repository root."""
    root = os.environ.get("COSSIM_DATA_DIR")
    return Path(root) / "ml-100k" if root else ROOT / "data" / "ml-100k"


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_of_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_complete(dest: Path) -> bool:
    """True when both files exist in ``dest`` with the expected checksums."""
    return all(
        (dest / name).is_file() and sha256_of_file(dest / name) == digest for name, digest in FILE_SHA256.items()
    )


def download_wheel(folder: Path, python: str = sys.executable) -> Path:
    """Download the recbole wheel (no dependencies, no install) into ``folder``; return its path."""
    command = [python, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--disable-pip-version-check",
               "--quiet", PACKAGE, "-d", str(folder)]
    try:
        completed = subprocess.run(command, capture_output=True, text=True)
    except OSError as error:
        raise FetchError(f"cannot run pip ({error})") from error
    if completed.returncode != 0:
        detail = " | ".join(line.strip() for line in completed.stderr.splitlines() if line.strip()
                            and not line.startswith("WARNING: Location"))
        raise FetchError(
            f"`pip download {PACKAGE}` failed (exit status {completed.returncode}): {detail or 'no message'}"
        )
    wheel = folder / WHEEL_NAME
    if not wheel.is_file():
        found = ", ".join(sorted(path.name for path in folder.iterdir())) or "nothing"
        raise FetchError(f"pip download did not produce {WHEEL_NAME} (found: {found})")
    return wheel


def extract(wheel: Path, dest: Path) -> None:
    """Check the wheel, extract the two files, check them, and move them into ``dest``."""
    digest = sha256_of_file(wheel)
    if digest != WHEEL_SHA256:
        raise FetchError(f"{wheel.name} has SHA-256 {digest}, expected {WHEEL_SHA256}; refusing to use it")
    try:
        archive = zipfile.ZipFile(wheel)
    except zipfile.BadZipFile as error:
        raise FetchError(f"{wheel.name} is not a valid zip archive ({error})") from error
    contents = {}
    with archive:
        for name, expected in FILE_SHA256.items():
            try:
                data = archive.read(MEMBER_FOLDER + name)
            except KeyError:
                raise FetchError(f"{wheel.name} has no member {MEMBER_FOLDER + name}") from None
            if sha256_of(data) != expected:
                raise FetchError(f"{MEMBER_FOLDER + name} has SHA-256 {sha256_of(data)}, expected {expected}")
            contents[name] = data
    dest.mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        temporary = dest / f".{name}.partial"
        temporary.write_bytes(data)
        os.replace(temporary, dest / name)


def fetch(dest: Path, python: str = sys.executable, log=print) -> bool:
    """Make sure ``dest`` holds both files; return True if anything was downloaded."""
    if is_complete(dest):
        log(f"MovieLens-100k already in {dest} (checksums match); nothing to do")
        return False
    log(f"downloading {PACKAGE} with pip (the wheel only, not installed) to extract MovieLens-100k")
    with tempfile.TemporaryDirectory(prefix="cossim-fetch-") as folder:
        wheel = download_wheel(Path(folder), python)
        extract(wheel, dest)
    if not is_complete(dest):  # e.g. a file changed under us
        raise FetchError(f"the files in {dest} do not match their checksums after extraction")
    log(f"wrote {', '.join(FILE_SHA256)} to {dest} (checksums verified)")
    return True


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Fetch MovieLens-100k (ratings and movies) from the PyPI wheel of recbole 1.2.1."
    )
    parser.add_argument(
        "--dest", type=Path, default=None,
        help="folder to write ml-100k.inter and ml-100k.item to "
             "(default: $COSSIM_DATA_DIR/ml-100k, else data/ml-100k in the repository)",
    )
    arguments = parser.parse_args(argv)
    dest = arguments.dest if arguments.dest is not None else default_destination()
    try:
        fetch(dest)
    except (FetchError, OSError) as error:
        print(f"fetch_movielens: error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
