"""The pieces behind the offline website, without a browser: fetching the pinned browser
libraries (hash-checked, only the listed files, all or nothing) and listing each page asset once."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import io
import json
import tarfile
import types
from pathlib import Path

import pytest
from sphinx.builders.html._assets import _JavaScript

import builtsite

EXT = builtsite.REPO / "_ext"


def _load(name: str) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", EXT / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fetcher = _load("fetch_web_assets")
offline_assets = _load("offline_assets")


def _tarball(path: Path, files: dict[str, bytes]) -> str:
    """Write an npm-style tarball and return its sha512 integrity string."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


@pytest.fixture
def fake_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A stand-in for `npm pack`: serves tarballs built in tmp_path and counts downloads."""
    tarballs: dict[str, Path] = {}
    downloads: list[str] = []

    def npm_pack(spec: str, dest: Path) -> Path:
        downloads.append(spec)
        target = dest / tarballs[spec].name
        target.write_bytes(tarballs[spec].read_bytes())
        return target

    monkeypatch.setattr(fetcher, "_npm_pack", npm_pack)

    def publish(spec: str, files: dict[str, bytes]) -> str:
        path = tmp_path / (spec.replace("/", "_").replace("@", "_") + ".tgz")
        tarballs[spec] = path
        return _tarball(path, files)

    return types.SimpleNamespace(publish=publish, downloads=downloads)


def _lock(tmp_path: Path, integrity: str, files: dict[str, str]) -> Path:
    lock = tmp_path / "web_assets.json"
    lock.write_text(
        json.dumps(
            {
                "packages": [
                    {"name": "demo", "version": "1.0.0", "integrity": integrity, "files": files},
                ]
            }
        )
    )
    return lock


def test_fetch_unpacks_only_the_listed_files_and_then_does_nothing(
    tmp_path: Path, fake_registry
) -> None:
    integrity = fake_registry.publish(
        "demo@1.0.0",
        {
            "package/dist/main.js": b"main",
            "package/dist/a.woff2": b"font",
            "package/README.md": b"readme",
        },
    )
    lock = _lock(
        tmp_path, integrity, {"package/dist/main.js": "lib/main.js", "package/dist/*.woff2": "lib/"}
    )
    vendor = tmp_path / "vendor"
    written = fetcher.fetch(lock=lock, vendor=vendor)
    assert sorted(p.relative_to(vendor).as_posix() for p in written) == [
        "lib/a.woff2",
        "lib/main.js",
    ]
    assert (vendor / "lib" / "main.js").read_bytes() == b"main"
    assert not (vendor / "README.md").exists()
    assert fetcher.is_current(vendor, lock)
    assert fetcher.fetch(lock=lock, vendor=vendor) == [] and fake_registry.downloads == [
        "demo@1.0.0"
    ]


def test_fetch_refuses_a_tarball_that_does_not_match_its_pin(tmp_path: Path, fake_registry) -> None:
    fake_registry.publish("demo@1.0.0", {"package/main.js": b"tampered"})
    lock = _lock(
        tmp_path, "sha512-" + base64.b64encode(b"\0" * 64).decode(), {"package/main.js": "main.js"}
    )
    vendor = tmp_path / "vendor"
    with pytest.raises(fetcher.WebAssetError, match="does not match the pinned"):
        fetcher.fetch(lock=lock, vendor=vendor)
    assert not vendor.exists(), "a failed fetch must not leave a half-filled vendor folder"


def test_fetch_names_a_listed_file_the_package_lacks(tmp_path: Path, fake_registry) -> None:
    integrity = fake_registry.publish("demo@1.0.0", {"package/main.js": b"main"})
    lock = _lock(tmp_path, integrity, {"package/dist/embed-amd.js": "embed-amd.js"})
    with pytest.raises(fetcher.WebAssetError, match="package/dist/embed-amd.js"):
        fetcher.fetch(lock=lock, vendor=tmp_path / "vendor")


def test_changing_the_lock_makes_the_vendor_folder_stale(tmp_path: Path, fake_registry) -> None:
    integrity = fake_registry.publish("demo@1.0.0", {"package/main.js": b"main"})
    lock = _lock(tmp_path, integrity, {"package/main.js": "main.js"})
    vendor = tmp_path / "vendor"
    fetcher.fetch(lock=lock, vendor=vendor)
    lock.write_text(lock.read_text().replace("1.0.0", "1.0.1"))
    assert not fetcher.is_current(vendor, lock)


def test_pinned_lock_lists_the_widget_libraries_with_sha512_pins() -> None:
    lock = json.loads((EXT / "web_assets.json").read_text())
    packages = {package["name"]: package for package in lock["packages"]}
    assert set(packages) == {"requirejs", "@jupyter-widgets/html-manager"}
    for package in packages.values():
        assert package["integrity"].startswith("sha512-")
        assert len(base64.b64decode(package["integrity"].removeprefix("sha512-"))) == 64
    targets = {target for package in packages.values() for target in package["files"].values()}
    assert {offline_assets.REQUIRE_JS, offline_assets.EMBED_JS} <= targets


def test_each_page_script_is_listed_once() -> None:
    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [
        _JavaScript(None, body=thebe),
        _JavaScript("_static/a.js"),
        _JavaScript("", body=thebe),
        _JavaScript("_static/a.js"),
        _JavaScript("_static/a.js", defer="defer"),
    ]
    original = list(scripts)
    context = {"script_files": scripts, "css_files": []}
    offline_assets.dedupe_assets(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts  # edited in place, as Sphinx renders that list
    assert [id(js) for js in scripts] == [id(original[0]), id(original[1]), id(original[4])]
