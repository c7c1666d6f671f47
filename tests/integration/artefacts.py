"""The release artefacts of amd64, built once per test session for the tests
of the .deb, the OCI image and the engines that load it.

`scripts/release.sh VERSION amd64` runs with DIST set to a private directory
(never the tree's dist/, which `make release` fills for every architecture),
from the sources under test, so the artefacts tested are those this tree
makes. A failing build fails the tests that need it, with the script's
output."""

import atexit
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from conftest import PATH, ROOT

_built = {}
# (the artefacts are removed when the session ends)
atexit.register(lambda: cleanup())


def version():
    return re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M).group(1)


def release_amd64():
    """{"dir", "tgz", "deb", "image", "version", "log"}: the amd64 artefacts."""
    if "amd64" not in _built:
        out = Path(tempfile.mkdtemp(prefix="dock-artefacts-"))
        res = subprocess.run([str(ROOT / "scripts" / "release.sh"), version(), "amd64"], cwd=ROOT,
                             capture_output=True, text=True, timeout=300,
                             env={"PATH": PATH, "DIST": str(out), "HOME": "/root"})
        if res.returncode != 0:
            raise AssertionError(f"scripts/release.sh {version()} amd64 failed ({res.returncode}):\n"
                                 f"{res.stdout}\n{res.stderr}")
        v = version()
        _built["amd64"] = {"dir": out, "tgz": out / f"dock-{v}-linux-amd64.tgz",
                           "deb": out / f"dock_{v}_amd64.deb", "image": out / f"dock-{v}-oci.tar",
                           "version": v, "log": res.stderr}
    return _built["amd64"]


def cleanup():
    for a in _built.values():
        shutil.rmtree(a["dir"], ignore_errors=True)
    _built.clear()


def image_ref():
    """The name engines give the OCI image once loaded."""
    return f"dock:{version()}"


def rootfs_oci_archive(rootfs, dest, ref, extra=None, image_config=None):
    """An OCI image layout tar (one uncompressed layer: the tree at rootfs, plus
    extra {path in the image: host file}) named ref, its config's "config"
    image_config, for `ctr image import`; returns dest."""
    import hashlib
    import io
    import json

    work = Path(tempfile.mkdtemp(prefix="dock-oci-"))
    try:
        layer = work / "layer.tar"
        with tarfile.open(layer, "w", format=tarfile.GNU_FORMAT) as t:
            for p in sorted(Path(rootfs).rglob("*")):
                t.add(p, arcname=str(p.relative_to(rootfs)), recursive=False)
            for name, path in (extra or {}).items():
                t.add(path, arcname=name.lstrip("/"), recursive=False)
        blobs = {}

        def blob(data):
            h = hashlib.sha256(data).hexdigest()
            blobs[h] = data
            return {"digest": f"sha256:{h}", "size": len(data)}

        layer_bytes = layer.read_bytes()
        ldesc = blob(layer_bytes)
        config = json.dumps({"architecture": "amd64", "os": "linux", "config": image_config or {},
                             "rootfs": {"type": "layers", "diff_ids": [ldesc["digest"]]}}).encode()
        cdesc = blob(config)
        manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **cdesc},
                               "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", **ldesc}]}).encode()
        mdesc = blob(manifest)
        index = json.dumps({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", **mdesc,
            "annotations": {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref}}]}).encode()
        with tarfile.open(dest, "w", format=tarfile.GNU_FORMAT) as t:
            def add(name, data):
                info = tarfile.TarInfo(name)
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
            add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
            add("index.json", index)
            for h, data in blobs.items():
                add(f"blobs/sha256/{h}", data)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def readme_install_line(prefix):
    """The line of README.md's Install section that starts with prefix, with
    the version it names checked against the Makefile's."""
    text = (ROOT / "README.md").read_text()
    m = re.search(r"^## Install\n(.*?)^## ", text, re.S | re.M)
    assert m, "README.md has no Install section"
    block = re.search(r"```sh\n(.*?)```", m.group(1), re.S)
    assert block, "README.md's Install section has no ```sh block"
    lines = [line for line in block.group(1).splitlines() if line.startswith(prefix)]
    assert len(lines) == 1, f"README.md's Install block: {len(lines)} lines start with {prefix!r}"
    line = lines[0]
    for v in re.findall(r"\d+\.\d+\.\d+", line):
        assert v == version(), f"README.md's Install line names version {v}, the Makefile {version()}: {line}"
    return line


def tar_members(path):
    """{name: bytes or None (a directory)} of a tar archive (any compression)."""
    out = {}
    with tarfile.open(path) as t:
        for m in t.getmembers():
            out[m.name.lstrip("./")] = t.extractfile(m).read() if m.isfile() else None
    return out
