"""The Debian package of `make deb` / `make release` (scripts/deb.sh): its
layout and control data, lintian's verdict, and a real install with dpkg by
README.md's line, `dock --version` and a PID 1 reaping check from the
installed path, then a purge that leaves nothing behind.

The install test skips, with the reason, where this is not root or a `dock`
package or /usr/bin/dock is already on the machine (it never replaces one);
the package is purged at the end, whatever happened."""

import gzip
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import artefacts
from conftest import PATH, ROOT, helper

LINTIAN = shutil.which("lintian", path=PATH)
# tags lintian may report at info level, each with its reason (docs/release.md)
EXPECTED_INFO = {
    # the .comment section holds the compilers' version strings; a few
    # hundred bytes, left as every Debian binary built with gcc has it
    "binary-has-unneeded-section",
}


def _deb():
    return artefacts.release_amd64()["deb"]


def _field(deb, name):
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_deb_layout():
    deb = _deb()
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    files = {}
    for line in listing.splitlines():
        mode, owner, _size, _date, _time, name = line.split(None, 5)
        files[name.lstrip(".")] = (mode, owner)
    regular = sorted(n for n, (mode, _) in files.items() if mode.startswith("-"))
    assert regular == ["/usr/bin/dock", "/usr/share/doc/dock/changelog.gz", "/usr/share/doc/dock/copyright",
                       "/usr/share/lintian/overrides/dock", "/usr/share/man/man1/dock.1.gz"], regular
    assert all(owner == "root/root" for _, owner in files.values()), files
    assert files["/usr/bin/dock"][0] == "-rwxr-xr-x"
    assert _field(deb, "Package") == "dock"
    assert _field(deb, "Version") == artefacts.version()
    assert _field(deb, "Architecture") == "amd64"
    assert re.search(r"\bmusl \(= [^)]+\), bearssl \(= [^)]+\), zlib \(= [^)]+\)", _field(deb, "Built-Using"))


def test_deb_copyright_is_the_mit_licence(tmp_path):
    subprocess.run(["dpkg-deb", "-x", str(_deb()), str(tmp_path)], check=True)
    copyright = (tmp_path / "usr/share/doc/dock/copyright").read_text()
    assert copyright.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/")
    assert "Copyright: 2026 the dock authors\nLicense: Expat\n" in copyright
    licence = (ROOT / "LICENSE").read_text()
    mit = licence[licence.index("Permission is hereby granted"):licence.index("SOFTWARE.\n") + len("SOFTWARE.")]
    body = "\n".join(line[1:] if line != " ." else "" for line in copyright.split("License: Expat\n")[1].splitlines())
    assert body.strip() == mit.strip()
    changelog = gzip.decompress((tmp_path / "usr/share/doc/dock/changelog.gz").read_bytes()).decode()
    assert changelog.startswith(f"dock ({artefacts.version()}) unstable; urgency=medium\n"), changelog
    man = gzip.decompress((tmp_path / "usr/share/man/man1/dock.1.gz").read_bytes())
    assert man == (ROOT / "docs" / "dock.1").read_bytes()


@pytest.mark.skipif(LINTIAN is None, reason="lintian not installed (scripts/deps.sh release)")
def test_lintian_reports_no_error_and_no_warning():
    res = subprocess.run([LINTIAN, "--info", "--display-info", "--pedantic", str(_deb())], capture_output=True,
                         text=True, timeout=120, env={"PATH": PATH, "HOME": "/root"})
    tags = re.findall(r"^([EWIP]): dock(?: \w+)?: (\S+)", res.stdout, re.M)
    assert not [t for t in tags if t[0] in "EW"], res.stdout
    assert {name for level, name in tags if level in "IP"} <= EXPECTED_INFO, res.stdout


def _dpkg_has_dock():
    res = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "dock"], capture_output=True, text=True)
    return res.returncode == 0 and "installed" in res.stdout and "not-installed" not in res.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="dpkg -i needs root")
def test_dpkg_install_run_and_purge():
    if _dpkg_has_dock() or os.path.lexists("/usr/bin/dock"):
        pytest.skip("a dock package or /usr/bin/dock is already on this machine: not replacing it")
    a = artefacts.release_amd64()
    line = artefacts.readme_install_line("dpkg -i ")
    try:
        res = subprocess.run(["sh", "-c", line], cwd=a["dir"], capture_output=True, text=True, timeout=120,
                             env={"PATH": PATH, "DEBIAN_FRONTEND": "noninteractive"})
        assert res.returncode == 0, f"{line}\n{res.stdout}\n{res.stderr}"
        assert _dpkg_has_dock()
        ver = subprocess.run(["/usr/bin/dock", "--version"], capture_output=True, text=True, timeout=10)
        assert ver.returncode == 0 and ver.stdout.startswith(f"dock version {a['version']} - git."), ver
        assert Path("/usr/share/man/man1/dock.1.gz").exists()
        # PID 1 of a fresh PID namespace, from the installed path: orphans reaped
        storm = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "/usr/bin/dock", helper("storm"), "20"],
                               capture_output=True, text=True, timeout=30, env={"PATH": PATH})
        assert storm.returncode == 0, storm
        assert re.search(r"^orphans 20 init=1\b", storm.stdout, re.M), storm.stdout
        assert re.search(r"^reaped ms=\d+ left=0 zombies=0$", storm.stdout, re.M), storm.stdout
    finally:
        purge = subprocess.run(["dpkg", "--purge", "dock"], capture_output=True, text=True, timeout=120,
                               env={"PATH": PATH, "DEBIAN_FRONTEND": "noninteractive"})
    assert purge.returncode == 0, purge.stderr
    assert not _dpkg_has_dock()
    for path in ["/usr/bin/dock", "/usr/share/man/man1/dock.1.gz", "/usr/share/doc/dock",
                 "/usr/share/lintian/overrides/dock"]:
        assert not os.path.lexists(path), f"{path} is left after the purge"
