"""Invocation: help, version, option parsing, DOCK_* environment, usage errors."""

import re

import pytest

from conftest import ROOT, dock_plain

OPTIONS_OF_ISSUE_2 = ["--help", "--version", "--debug", "--thug", "--kill-timeout", "--rewrite",
                      "--signal-group", "--remap-exit", "--pdeathsig"]


def _makefile_version():
    m = re.search(r"^VERSION\s*:?=\s*(\S+)", (ROOT / "Makefile").read_text(), re.M)
    return m.group(1) if m else None


@pytest.mark.parametrize("flag", ["-h", "--help"])
def test_help(flag):
    res = dock_plain([flag])
    assert res.returncode == 0
    assert res.stderr == ""
    assert "usage" in res.stdout.lower()
    missing = [o for o in OPTIONS_OF_ISSUE_2 if o not in res.stdout]
    assert not missing, f"help does not mention {missing}"
    for short in ["-h", "-v", "-d"]:
        assert re.search(rf"(^|[\s,]){short}\b", res.stdout), f"help does not mention {short}"


@pytest.mark.parametrize("flag", ["-v", "--version"])
def test_version(flag):
    res = dock_plain([flag])
    assert res.returncode == 0
    assert res.stderr == ""
    # tini's format (test_docker_init.py checks the commit part)
    assert re.fullmatch(r"dock version \d+\.\d+\.\d+\S*( - git\.[0-9A-Za-z-]+)?\n", res.stdout), repr(res.stdout)
    v = _makefile_version()
    if v:
        assert res.stdout.split(" - ")[0].strip() == f"dock version {v}"


def test_help_wins_over_a_command():
    res = dock_plain(["--help", "@exitwith", "7"])
    assert res.returncode == 0
    assert "usage" in res.stdout.lower()


def test_parsing_stops_at_first_non_option():
    """Options after COMMAND belong to the command: -h, --thug, -- go through unchanged."""
    res = dock_plain(["@inspect", "-h", "--thug", "--", "-v", "--kill-timeout=bogus"])
    assert res.returncode == 0, res.stderr
    args = re.findall(r"^arg (\d+) (.*)$", res.stdout, re.M)
    assert [a for _, a in args][1:] == ["-h", "--thug", "--", "-v", "--kill-timeout=bogus"]


def test_double_dash_ends_options():
    res = dock_plain(["--", "@exitwith", "4"])
    assert res.returncode == 4, res.stderr


def test_double_dash_then_dash_word_is_the_command():
    res = dock_plain(["--", "--version"])
    assert res.returncode == 127, res.stdout + res.stderr
    assert "dock version" not in res.stdout
    assert "--version" in res.stderr


def test_options_then_double_dash():
    res = dock_plain(["--kill-timeout", "1s", "--thug", "--", "@exitwith", "5"])
    assert res.returncode == 5, res.stderr


@pytest.mark.parametrize("args", [
    ["--kill-timeout", "500ms"], ["--kill-timeout=500ms"], ["--kill-timeout", "2s"],
    ["--kill-timeout", "1m"], ["--kill-timeout", "3"], ["--kill-timeout=0"],
    ["--rewrite", "TERM:INT"], ["--rewrite=SIGTERM:SIGINT"], ["--rewrite", "15:2"],
    ["--rewrite", "HUP:0"], ["--rewrite", "USR1:USR2", "--rewrite", "USR2:USR1"],
    ["--signal-group"], ["--thug"], ["-d"], ["--debug"],
    ["--remap-exit", "1"], ["--remap-exit=1:2"], ["--remap-exit", "255:0"],
    ["--pdeathsig", "TERM"], ["--pdeathsig=SIGKILL"], ["--pdeathsig", "9"],
])
def test_valid_options_accepted(args):
    res = dock_plain(args + ["@exitwith", "6"])
    assert res.returncode == 6, f"{args}: rc={res.returncode} stderr={res.stderr!r}"


@pytest.mark.parametrize("var,value", [
    ("DOCK_KILL_TIMEOUT", "500ms"), ("DOCK_THUG", "1"), ("DOCK_SIGNAL_GROUP", "1"),
    ("DOCK_REWRITE", "TERM:INT"), ("DOCK_REWRITE", "TERM:INT,HUP:0"), ("DOCK_REMAP_EXIT", "1:2"),
    ("DOCK_PDEATHSIG", "TERM"), ("DOCK_DEBUG", "1"),
])
def test_valid_env_accepted(var, value):
    res = dock_plain(["@exitwith", "6"], env={var: value})
    assert res.returncode == 6, f"{var}={value}: rc={res.returncode} stderr={res.stderr!r}"


@pytest.mark.parametrize("flag", ["-d", "--debug"])
def test_debug_lines_on_stderr(flag):
    res = dock_plain([flag, "@exitwith", "0"])
    assert res.returncode == 0
    lines = res.stderr.splitlines()
    assert lines, "-d printed nothing"
    bad = [line for line in lines if not line.startswith("dock: ")]
    assert not bad, f"diagnostic lines not starting 'dock: ': {bad}"
    assert res.stdout == ""


def test_debug_from_env():
    res = dock_plain(["@exitwith", "0"], env={"DOCK_DEBUG": "1"})
    assert res.returncode == 0
    assert res.stderr.startswith("dock: ")


# --- usage errors: exit 2, one line naming the option (and value), nothing run


USAGE_ERRORS = [
    # (args, words the line must contain)
    (["--bogus"], ["--bogus"]),
    (["--bogus=1"], ["--bogus"]),
    (["-Z"], ["-Z"]),
    (["--kill-timeout"], ["--kill-timeout"]),
    (["--kill-timeout", "abc"], ["kill-timeout", "abc"]),
    (["--kill-timeout=abc"], ["kill-timeout", "abc"]),
    (["--kill-timeout", "5x"], ["kill-timeout", "5x"]),
    (["--kill-timeout", "-1s"], ["kill-timeout", "-1s"]),
    (["--kill-timeout", "1.5.5s"], ["kill-timeout", "1.5.5s"]),
    (["--kill-timeout", "ms"], ["kill-timeout", "ms"]),
    (["--kill-timeout="], ["kill-timeout"]),
    (["--kill-timeout", "99999999999999999999999s"], ["kill-timeout", "99999999999999999999999s"]),
    (["--rewrite"], ["--rewrite"]),
    (["--rewrite", "TERM"], ["rewrite", "TERM"]),
    (["--rewrite", "FOO:TERM"], ["rewrite", "FOO"]),
    (["--rewrite", "TERM:FOO"], ["rewrite", "FOO"]),
    (["--rewrite", "TERM:"], ["rewrite", "TERM:"]),
    (["--rewrite", ":TERM"], ["rewrite", ":TERM"]),
    (["--rewrite", "99:1"], ["rewrite", "99"]),
    (["--rewrite", "::::"], ["rewrite", "::::"]),
    (["--remap-exit"], ["--remap-exit"]),
    (["--remap-exit", "abc"], ["remap-exit", "abc"]),
    (["--remap-exit", "256"], ["remap-exit", "256"]),
    (["--remap-exit", "-1"], ["remap-exit", "-1"]),
    (["--remap-exit", "1:256"], ["remap-exit", "1:256"]),
    (["--remap-exit", "1:x"], ["remap-exit", "1:x"]),
    (["--remap-exit", "1:2:3"], ["remap-exit", "1:2:3"]),
    (["--pdeathsig"], ["--pdeathsig"]),
    (["--pdeathsig", "BOGUS"], ["pdeathsig", "BOGUS"]),
    (["--pdeathsig", "65"], ["pdeathsig", "65"]),
]


def _assert_usage_error(res, words, marker):
    assert res.returncode == 2, f"rc={res.returncode} stderr={res.stderr!r}"
    lines = res.stderr.splitlines()
    assert len(lines) == 1, f"expected exactly one line on stderr, got {lines!r}"
    assert lines[0].startswith("dock: "), lines[0]
    for w in words:
        assert w in lines[0], f"{lines[0]!r} does not name {w!r}"
    assert len(lines[0]) < 200, "not a short line"
    assert res.stdout == ""
    assert not marker.exists(), "the command ran despite the usage error"


@pytest.mark.parametrize("args,words", USAGE_ERRORS, ids=[" ".join(a) or "none" for a, _ in USAGE_ERRORS])
def test_usage_error(args, words, tmp_path):
    marker = tmp_path / "ran"
    res = dock_plain(args + ["touch", str(marker)])
    _assert_usage_error(res, words, marker)


@pytest.mark.parametrize("args", [[], ["--thug"], ["--"], ["--kill-timeout", "1s"], ["-d"]])
def test_no_command_is_usage_error(args):
    res = dock_plain(args)
    assert res.returncode == 2, f"rc={res.returncode} stderr={res.stderr!r}"
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dock: "), lines
    assert res.stdout == ""


@pytest.mark.parametrize("var,value", [
    ("DOCK_KILL_TIMEOUT", "abc"), ("DOCK_REWRITE", "FOO:TERM"), ("DOCK_REMAP_EXIT", "300"),
    ("DOCK_PDEATHSIG", "BOGUS"),
])
def test_env_usage_error(var, value, tmp_path):
    marker = tmp_path / "ran"
    res = dock_plain(["touch", str(marker)], env={var: value})
    # the line names the variable or the option it stands for, and the value
    opt = var[len("DOCK_"):]
    assert res.returncode == 2, f"rc={res.returncode} stderr={res.stderr!r}"
    lines = res.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dock: "), lines
    assert opt in lines[0] or opt.lower().replace("_", "-") in lines[0], lines[0]
    assert value in lines[0], lines[0]
    assert not marker.exists()


def test_flag_wins_over_bad_env(tmp_path):
    """A valid flag overrides DOCK_* entirely, even a malformed one."""
    res = dock_plain(["--kill-timeout", "1s", "@exitwith", "3"], env={"DOCK_KILL_TIMEOUT": "abc"})
    assert res.returncode == 3, res.stderr


def test_usage_error_never_crashes_on_long_value():
    res = dock_plain(["--kill-timeout", "9" * 5000 + "s", "@exitwith", "0"])
    assert res.returncode == 2
    assert res.stderr.startswith("dock: ")
    res = dock_plain(["--rewrite", "A" * 5000 + ":TERM", "@exitwith", "0"])
    assert res.returncode == 2
    assert res.stderr.startswith("dock: ")
