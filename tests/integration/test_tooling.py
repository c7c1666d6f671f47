"""The developer tooling: `make help` names every target, and the unit runner
selects, lists and refuses suites as its usage says (tests/unit/main.c)."""

import re
import subprocess

import pytest

from conftest import BUILD, ROOT

UNIT = BUILD / "unit"


def _phony_targets():
    text = (ROOT / "Makefile").read_text()
    names = set()
    for m in re.finditer(r"^\.PHONY:(.*)$", text, re.M):
        names.update(m.group(1).split())
    cross = re.search(r"^CROSS_ARCHS\s*:=(.*)$", text, re.M)
    if "$(CROSS_ARCHS)" in names and cross:
        names.discard("$(CROSS_ARCHS)")
        names.update(cross.group(1).split())
    # FORCE is a prerequisite that makes a rule always run, not a target to use
    names.discard("FORCE")
    return names


def test_make_help_names_every_target():
    res = subprocess.run(["make", "-s", "--no-print-directory", "help"], cwd=ROOT,
                         capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    listed = set(re.findall(r"^make (\S+)", res.stdout, re.M))
    targets = _phony_targets() - {"all", "help"}
    assert targets, "no .PHONY targets found in the Makefile"
    assert targets <= listed, f"`make help` does not name: {sorted(targets - listed)}"
    assert listed <= targets, f"`make help` names no target: {sorted(listed - targets)}"


unit_needed = pytest.mark.skipif(not UNIT.exists(), reason=f"{UNIT} not built (make unit)")


def _unit(*args):
    return subprocess.run([str(UNIT), *args], capture_output=True, text=True, timeout=300)


def _ran(stdout):
    return re.findall(r"^(test_\S+)\s+(?:ok|FAILED)$", stdout, re.M)


@unit_needed
def test_unit_lists_suites_and_sub_suites():
    res = _unit("-l")
    assert res.returncode == 0, res.stderr
    names = res.stdout.split()
    assert names == sorted(names)
    for name in ("test_lifecycle_gates", "test_loop_timer_deadline", "test_rotate_names",
                 "test_http_head", "test_url_redact"):
        assert name in names
    # -l with a NAME lists what that NAME would run
    res = _unit("-l", "loop")
    assert res.returncode == 0
    assert res.stdout.split() == [n for n in names if n.startswith("test_loop_")]


@unit_needed
def test_unit_runs_one_suite_or_a_group():
    res = _unit("rotate_names")
    assert res.returncode == 0, res.stdout + res.stderr
    assert _ran(res.stdout) == ["test_rotate_names"]
    assert "unit: 1 passed, 0 failed" in res.stdout

    res = _unit("test_lifecycle")
    assert res.returncode == 0, res.stdout + res.stderr
    ran = _ran(res.stdout)
    assert len(ran) > 1 and all(n.startswith("test_lifecycle_") for n in ran)

    # a name is a whole word of the suite's name: "rot" selects nothing
    res = _unit("rot")
    assert res.returncode == 2
    assert res.stderr.strip() == "unit: no suite matches 'rot' (unit -l lists them)"
    assert _ran(res.stdout) == []


@unit_needed
def test_unit_usage_errors():
    res = _unit("-x")
    assert res.returncode == 2
    assert "usage: unit" in res.stderr
    res = _unit("-h")
    assert res.returncode == 0
    assert "usage: unit" in res.stdout


PURITY = ROOT / "scripts" / "check-lib-purity.sh"


def _purity(lib):
    return subprocess.run([str(PURITY), str(lib)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def test_lib_purity_passes_on_src_lib():
    res = _purity(ROOT / "src" / "lib")
    assert res.returncode == 0, res.stderr
    assert "is pure" in res.stdout


@pytest.mark.parametrize("name,code,why", [
    # a system call, reached through a header the check allows for its types
    ("planted.c", '#include <sys/socket.h>\nint dock_planted(int fd) { return (int)send(fd, "x", 1, 0); }\n',
     "calls send, not a pure libc function"),
    # a system-call header, even unused
    ("planted.c", "#include <unistd.h>\nint dock_planted(void);\nint dock_planted(void) { return 0; }\n",
     "unistd.h> (a system-call header)"),
    # the log (or any I/O module of src/)
    ("planted.h", '#include "log.h"\n', 'includes "log.h", which is not in'),
    # a dock_ function defined outside the directory: the loop
    ("planted.c", "void dock_loop_run_once(void);\nvoid dock_planted(void);\n"
     "void dock_planted(void) { dock_loop_run_once(); }\n",
     "calls dock_loop_run_once, which is not defined in"),
    # stdio that writes is not pure either
    ("planted.c", '#include <stdio.h>\nvoid dock_planted(void);\nvoid dock_planted(void) { puts("x"); }\n',
     "calls puts, not a pure libc function"),
])
def test_lib_purity_fails_on_a_planted_violation(tmp_path, name, code, why):
    """A copy of src/lib passes; the same copy with one planted file fails,
    naming the file and what it does wrong: the check is generic (any new
    file is checked), not a list of modules."""
    import shutil
    lib = tmp_path / "lib"
    shutil.copytree(ROOT / "src" / "lib", lib)
    assert _purity(lib).returncode == 0
    (lib / name).write_text(code)
    res = _purity(lib)
    assert res.returncode == 1, res
    assert f"{lib / name}" in res.stderr and why in res.stderr, res.stderr
