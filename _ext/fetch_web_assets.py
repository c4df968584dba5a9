"""Download the pinned browser libraries the website serves itself, so it works offline.

The packages, versions, sha512 integrity hashes and the files to keep are listed in
``web_assets.json`` next to this script. Each tarball is fetched with the ordinary npm client
(``npm pack``), its hash is checked against the pinned one (a mismatch stops with an error), and
only the listed files are unpacked into ``_ext/vendor/``. A stamp file records which lock the
folder was made from, so a second run with an unchanged lock does nothing.

Run ``python _ext/fetch_web_assets.py`` (``make web-assets`` does); the book's Sphinx extension
``offline_assets`` also runs it when the folder is missing or stale.
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
LOCK = HERE / "web_assets.json"
VENDOR = HERE / "vendor"
STAMP = VENDOR / ".lock-sha256"


class WebAssetError(RuntimeError):
    """A pinned browser library could not be fetched or did not match its pin."""


def lock_digest(lock: Path = LOCK) -> str:
    """sha256 of the lock file: the stamp that says which pins ``vendor/`` was made from."""
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def is_current(vendor: Path = VENDOR, lock: Path = LOCK) -> bool:
    """True if ``vendor/`` holds every file of the current lock."""
    stamp = vendor / STAMP.name
    return stamp.is_file() and stamp.read_text().strip() == lock_digest(lock)


def sri_sha512(path: Path) -> str:
    """The npm/Subresource-Integrity form of a file's hash: ``sha512-<base64 digest>``."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _npm_pack(spec: str, dest: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise WebAssetError(
            "npm is needed once to fetch the website's browser "
            "libraries (requirejs, the ipywidgets embed manager); "
            "install Node.js/npm (Debian: apt-get install npm) and run `make web-assets`"
        )
    result = subprocess.run(
        [npm, "pack", spec, "--pack-destination", str(dest), "--silent"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise WebAssetError(
            f"`npm pack {spec}` failed (exit {result.returncode}):\n{result.stderr.strip()}"
        )
    tarballs = list(dest.glob("*.tgz"))
    if len(tarballs) != 1:
        raise WebAssetError(
            f"`npm pack {spec}` left {len(tarballs)} tarballs in {dest}, expected 1"
        )
    return tarballs[0]


def _extract(tarball: Path, files: dict[str, str], out: Path, package: str) -> list[Path]:
    """Unpack the members matching each pattern of ``files`` to its target (a folder: ends in /)."""
    written: list[Path] = []
    with tarfile.open(tarball, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        for pattern, target in files.items():
            matches = [m for m in members if fnmatch.fnmatchcase(m.name, pattern)]
            if not matches:
                raise WebAssetError(f"{package}: no file in the tarball matches {pattern!r}")
            for member in matches:
                dest = (
                    out / target / Path(member.name).name if target.endswith("/") else out / target
                )
                dest.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                assert source is not None  # regular files always have content
                dest.write_bytes(source.read())
                written.append(dest)
    return written


def fetch(lock: Path = LOCK, vendor: Path = VENDOR, force: bool = False) -> list[Path]:
    """Fetch, verify and unpack every package of ``lock`` into ``vendor``; return the files written.

    Raises:
        WebAssetError: npm is missing, a download failed, a hash differs from its pin, or a
            listed file is not in the package.
    """
    if not force and is_current(vendor, lock):
        return []
    spec = json.loads(lock.read_text())
    staging = Path(tempfile.mkdtemp(prefix="web-assets-"))
    try:
        out = staging / "vendor"
        written: list[Path] = []
        for package in spec["packages"]:
            name, version = package["name"], package["version"]
            download = staging / "download" / name.replace("/", "__")
            download.mkdir(parents=True)
            tarball = _npm_pack(f"{name}@{version}", download)
            actual = sri_sha512(tarball)
            if actual != package["integrity"]:
                raise WebAssetError(
                    f"{name}@{version}: tarball hash {actual} does not match the pinned "
                    f"{package['integrity']}"
                )
            written += _extract(tarball, package["files"], out, name)
        (out / STAMP.name).write_text(lock_digest(lock) + "\n")
        # Swap the complete folder in at the end, so an interrupted run never leaves half a vendor/.
        if vendor.exists():
            shutil.rmtree(vendor)
        shutil.move(str(out), str(vendor))
        return [vendor / p.relative_to(out) for p in written]
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def main() -> int:
    force = "--force" in sys.argv[1:]
    try:
        written = fetch(force=force)
    except WebAssetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if written:
        print(f"fetched {len(written)} files into {VENDOR}")
    else:
        print(f"{VENDOR} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
