"""The OCI image of `make image` (scripts/image.sh), on its own, without an
engine: an OCI image layout that is also a `docker save` archive, holding one
layer with only /dock and /LICENSE, entry point /dock, the same bytes from
two builds. The engines load it in test_docker_init.py (docker load and a
`docker build` that copies /dock from it), test_podman.py (podman load) and
test_containerd.py (ctr image import)."""

import gzip
import hashlib
import io
import json
import shutil
import subprocess
import tarfile
import tempfile

import pytest

import artefacts
from conftest import PATH, ROOT

SKOPEO = shutil.which("skopeo", path=PATH)


def _layout():
    a = artefacts.release_amd64()
    return a, artefacts.tar_members(a["image"])


def _blob(members, digest):
    assert digest.startswith("sha256:"), digest
    data = members[f"blobs/sha256/{digest[7:]}"]
    assert hashlib.sha256(data).hexdigest() == digest[7:], f"blob {digest} does not match its digest"
    return data


def test_image_is_an_oci_layout_and_a_docker_archive():
    a, m = _layout()
    files = sorted(k for k, v in m.items() if v is not None)
    assert {"oci-layout", "index.json", "manifest.json"} <= set(files), files
    assert all(f in ("oci-layout", "index.json", "manifest.json") or f.startswith("blobs/sha256/") for f in files)
    assert json.loads(m["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads(m["index.json"])
    assert index["schemaVersion"] == 2 and len(index["manifests"]) == 1
    desc = index["manifests"][0]
    assert desc["platform"] == {"architecture": "amd64", "os": "linux"}
    assert desc["annotations"]["io.containerd.image.name"] == f"docker.io/library/dock:{a['version']}"
    manifest = json.loads(_blob(m, desc["digest"]))
    assert len(_blob(m, desc["digest"])) == desc["size"]
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    config = json.loads(_blob(m, manifest["config"]["digest"]))
    (layer_desc,) = manifest["layers"]
    layer_gz = _blob(m, layer_desc["digest"])
    assert len(layer_gz) == layer_desc["size"]
    layer = gzip.decompress(layer_gz)
    assert config["rootfs"]["diff_ids"] == ["sha256:" + hashlib.sha256(layer).hexdigest()]
    assert config["architecture"] == "amd64" and config["os"] == "linux"
    assert config["config"]["Entrypoint"] == ["/dock"]
    assert config["config"]["Labels"]["org.opencontainers.image.licenses"] == "MIT"
    assert config["config"]["Labels"]["org.opencontainers.image.version"] == a["version"]
    # docker load's manifest.json points at the same blobs
    (docker,) = json.loads(m["manifest.json"])
    assert docker["Config"] == "blobs/sha256/" + manifest["config"]["digest"][7:]
    assert docker["Layers"] == ["blobs/sha256/" + layer_desc["digest"][7:]]
    assert docker["RepoTags"] == [artefacts.image_ref()]


def test_image_layer_holds_only_dock_and_the_licence():
    a, m = _layout()
    desc = json.loads(m["index.json"])["manifests"][0]
    manifest = json.loads(_blob(m, desc["digest"]))
    layer = gzip.decompress(_blob(m, manifest["layers"][0]["digest"]))
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        entries = {e.name: e for e in t.getmembers()}
        assert sorted(entries) == ["LICENSE", "dock"], sorted(entries)
        assert entries["dock"].mode == 0o755 and entries["dock"].uid == 0 and entries["dock"].gid == 0
        dock = t.extractfile("dock").read()
        licence = t.extractfile("LICENSE").read()
    tgz = artefacts.tar_members(a["tgz"])
    assert dock == tgz[f"dock-{a['version']}-linux-amd64/dock"], "the image's /dock is not the release binary"
    assert licence == (ROOT / "LICENSE").read_bytes()


def test_image_is_reproducible():
    # a second, independent build (the binary compiled again) gives the same bytes
    a = artefacts.release_amd64()
    other = tempfile.mkdtemp(prefix="dock-image2-")
    try:
        res = subprocess.run([str(ROOT / "scripts" / "image.sh"), a["version"], "amd64"], cwd=ROOT,
                             capture_output=True, text=True, timeout=300,
                             env={"PATH": PATH, "DIST": other, "HOME": "/root"})
        assert res.returncode == 0, res.stderr
        again = f"{other}/dock-{a['version']}-oci.tar"
        assert open(again, "rb").read() == a["image"].read_bytes(), "two builds of the image differ"
    finally:
        shutil.rmtree(other, ignore_errors=True)


@pytest.mark.skipif(SKOPEO is None, reason="skopeo not installed (scripts/deps.sh containers)")
def test_skopeo_reads_the_image():
    a = artefacts.release_amd64()
    res = subprocess.run([SKOPEO, "inspect", f"oci-archive:{a['image']}"], capture_output=True, text=True,
                         timeout=60, env={"PATH": PATH, "HOME": "/root"})
    assert res.returncode == 0, res.stderr
    info = json.loads(res.stdout)
    assert info["Architecture"] == "amd64" and info["Os"] == "linux"
    assert info["Labels"]["org.opencontainers.image.version"] == a["version"]
    assert len(info["Layers"]) == 1
