"""Installing dock from the sources and from a release archive:
`make install` / `make uninstall` with PREFIX and DESTDIR, and the release
archive line of README.md's Install section, run as it is (in a private
mount namespace whose /usr/local/bin is an empty tmpfs, so the host's stays
untouched)."""

import gzip
import os
import subprocess

import pytest

import artefacts
from conftest import BUILD, PATH, ROOT


def _make(*args, timeout=300):
    res = subprocess.run(["make", "-s", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout, env={"PATH": PATH, "HOME": "/root"})
    assert res.returncode == 0, f"make {' '.join(args)} failed:\n{res.stdout}\n{res.stderr}"
    return res


def _files(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if not p.is_dir())


def test_make_install_and_uninstall_with_prefix_and_destdir(tmp_path):
    stage = tmp_path / "stage"
    _make("install", "PREFIX=/usr", f"DESTDIR={stage}")
    assert _files(stage) == ["usr/bin/dock", "usr/share/man/man1/dock.1.gz"]
    binary = stage / "usr/bin/dock"
    assert binary.read_bytes() == (BUILD / "dock").read_bytes()
    assert oct(binary.stat().st_mode & 0o7777) == "0o755"
    man = stage / "usr/share/man/man1/dock.1.gz"
    assert gzip.decompress(man.read_bytes()) == (ROOT / "docs" / "dock.1").read_bytes()
    assert oct(man.stat().st_mode & 0o7777) == "0o644"
    res = subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 0 and res.stdout.startswith("dock version "), res
    _make("uninstall", "PREFIX=/usr", f"DESTDIR={stage}")
    assert _files(stage) == []


def test_make_install_default_prefix_is_usr_local(tmp_path):
    _make("install", f"DESTDIR={tmp_path}")
    assert _files(tmp_path) == ["usr/local/bin/dock", "usr/local/share/man/man1/dock.1.gz"]
    _make("uninstall", f"DESTDIR={tmp_path}")
    assert _files(tmp_path) == []


def test_release_archive_holds_dock_licence_readme_and_man_page():
    a = artefacts.release_amd64()
    members = artefacts.tar_members(a["tgz"])
    top = f"dock-{a['version']}-linux-amd64"
    assert sorted(k for k, v in members.items() if v is not None) == sorted(
        f"{top}/{n}" for n in ["dock", "LICENSE", "README.md", "docs/dock.1"])
    assert members[f"{top}/LICENSE"] == (ROOT / "LICENSE").read_bytes()
    assert b"MIT License" in members[f"{top}/LICENSE"]


@pytest.mark.skipif(os.geteuid() != 0, reason="a private mount namespace needs root")
def test_readme_archive_line_installs_dock():
    a = artefacts.release_amd64()
    line = artefacts.readme_install_line("tar -xzf ")
    script = ("mount -t tmpfs tmpfs /usr/local/bin && " + line +
              " && ls -l /usr/local/bin && /usr/local/bin/dock --version")
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                         cwd=a["dir"], capture_output=True, text=True, timeout=30, env={"PATH": PATH})
    assert res.returncode == 0, f"{line}\n{res.stdout}\n{res.stderr}"
    lines = res.stdout.splitlines()
    assert len(lines) == 3, res.stdout  # ls: "total", dock alone; then the version
    assert lines[1].startswith("-rwxr-xr-x ") and lines[1].endswith(" dock"), res.stdout
    assert lines[2].startswith(f"dock version {a['version']} - git."), res.stdout
