"""The man page (docs/dock.1) against the binary: the same options, with the
same value names, in both directions; the same version; and a page that groff
formats without a warning. Also the examples' settings that must agree with
each other (examples/kubernetes.yaml)."""

import re
import shlex
import shutil
import subprocess

import pytest

from conftest import DOCK, ROOT

MAN = ROOT / "docs" / "dock.1"
EXAMPLES = ROOT / "examples"


# --------------------------------------------------------------------------
# option lists


HELP_OPTION = re.compile(r"^  (?:-(?P<short>\w), |    )--(?P<long>[a-z][a-z0-9-]*)(?: (?P<meta>\S.*?))?(?:  |$)")


def help_options(text):
    """{long name: (short letter or None, value name or None)} from --help."""
    opts = {}
    for line in text.splitlines():
        m = HELP_OPTION.match(line)
        if m:
            opts[m.group("long")] = (m.group("short"), m.group("meta"))
    return opts


def _roff_plain(line):
    """The text of one roff line: font macros (.B, .BR, .BI ...) lose their
    name and their arguments are joined as the alternating fonts join them;
    escapes for fonts, dashes and spaces are resolved."""
    if line.startswith("."):
        macro, _, rest = line.partition(" ")
        if macro in (".B", ".I"):
            line = rest
        elif re.fullmatch(r"\.(BR|BI|IB|IR|RB|RI)", macro):
            line = "".join(shlex.split(rest.replace("\\", "\\\\")))
        else:
            return ""
    line = re.sub(r"\\f[BIRP]", "", line)
    line = line.replace("\\-", "-").replace("\\~", " ").replace("\\ ", " ").replace("\\e", "\\")
    return line


def man_options(text):
    """{long name: (short letter or None, value name or None)} from the
    OPTIONS section: every .TP tag there that starts with a dash."""
    opts = {}
    lines = text.splitlines()
    in_options = False
    for i, line in enumerate(lines):
        if line.startswith(".SH"):
            in_options = line.split(None, 1)[1].strip('"') == "OPTIONS"
            continue
        if not in_options or line != ".TP" or i + 1 >= len(lines):
            continue
        tag = _roff_plain(lines[i + 1]).strip()
        m = re.match(r"^(?:-(?P<short>\w), )?--(?P<long>[a-z][a-z0-9-]*)(?: (?P<meta>\S.*))?$", tag)
        if m:
            opts[m.group("long")] = (m.group("short"), m.group("meta"))
    return opts


def compare(help_opts, man_opts):
    """Every difference, as readable lines (empty when they agree)."""
    problems = []
    for name in sorted(set(help_opts) - set(man_opts)):
        problems.append(f"--{name} is in --help but not in docs/dock.1")
    for name in sorted(set(man_opts) - set(help_opts)):
        problems.append(f"--{name} is in docs/dock.1 but not in --help")
    for name in sorted(set(help_opts) & set(man_opts)):
        if help_opts[name] != man_opts[name]:
            problems.append(f"--{name}: --help has (short, value) {help_opts[name]}, "
                            f"docs/dock.1 has {man_opts[name]}")
    return problems


@pytest.fixture(scope="module")
def help_text():
    res = subprocess.run([str(DOCK), "--help"], capture_output=True, text=True, timeout=10)
    assert res.returncode == 0, res.stderr
    return res.stdout


@pytest.fixture(scope="module")
def man_text():
    return MAN.read_text()


def test_man_page_lists_exactly_the_options_of_help(help_text, man_text):
    h, m = help_options(help_text), man_options(man_text)
    assert len(h) >= 20, f"too few options parsed from --help: {sorted(h)}"
    assert compare(h, m) == []


def test_comparison_fails_when_either_side_gains_an_option(help_text, man_text):
    # the check above must be able to fail, in both directions
    h, m = help_options(help_text), man_options(man_text)
    gained_help = help_text.replace("\noptions:\n", "\noptions:\n      --shiny-new FOO            brand new\n")
    assert "--shiny-new is in --help but not in docs/dock.1" in compare(help_options(gained_help), m)
    gained_man = man_text.replace(".SS General\n", ".SS General\n.TP\n.BI \\-\\-shiny\\-new \" FOO\"\nnew\n")
    assert "--shiny-new is in docs/dock.1 but not in --help" in compare(h, man_options(gained_man))
    lost_man = re.sub(r"\.TP\n\.B \\-\\-thug\n", ".PP\n", man_text)
    assert "--thug is in --help but not in docs/dock.1" in compare(h, man_options(lost_man))


def test_man_page_version_is_the_binary_s(man_text):
    res = subprocess.run([str(DOCK), "--version"], capture_output=True, text=True, timeout=10)
    version = res.stdout.split()[2]
    th = next(line for line in man_text.splitlines() if line.startswith(".TH"))
    assert f'"dock {version}"' in th, f"{th!r} does not name dock {version}"


def test_man_page_names_every_environment_variable(man_text):
    env = man_text[man_text.index(".SH ENVIRONMENT"):man_text.index(".SH EXIT STATUS")]
    for name in ["DOCK_", "NO_COLOR", "SSL_CERT_FILE", "SSL_CERT_DIR", "NOTIFY_SOCKET"]:
        assert name in env.replace("\\fI", "").replace("\\fR", ""), f"ENVIRONMENT does not mention {name}"


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed")
def test_man_page_formats_without_warnings():
    res = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", str(MAN)],
                         capture_output=True, text=True, timeout=30, env={"LC_ALL": "C.UTF-8", "PATH": "/usr/bin:/bin"})
    assert res.returncode == 0 and res.stderr == "", res.stderr


# --------------------------------------------------------------------------
# examples/kubernetes.yaml


def _duration_s(text):
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)?", text)
    assert m, f"not a duration: {text!r}"
    scale = {"ms": 0.001, "s": 1, None: 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    return float(m.group(1)) * scale


def test_kubernetes_example_is_consistent():
    yaml = pytest.importorskip("yaml")
    docs = [d for d in yaml.safe_load_all((EXAMPLES / "kubernetes.yaml").read_text()) if d]
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "Service"} <= kinds, kinds
    dep = next(d for d in docs if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]["spec"]
    grace = pod["terminationGracePeriodSeconds"]
    app = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in app.get("env", [])}
    kill_timeout = _duration_s(env["DOCK_KILL_TIMEOUT"])
    hook_timeout = _duration_s(env.get("DOCK_WEB_HOOK_TIMEOUT") or "10s")
    # dock's SIGKILL of stragglers and its last hook delivery must both fit in
    # the pod's grace, or the kubelet's SIGKILL cuts them short
    assert kill_timeout + hook_timeout < grace, (kill_timeout, hook_timeout, grace)
    probe = app["readinessProbe"]["exec"]["command"]
    status_file = env["DOCK_STATUS_FILE"]
    assert any(status_file in word for word in probe), f"the probe {probe} does not read {status_file}"
    mounts = [m["mountPath"] for m in app.get("volumeMounts", [])]
    assert any(status_file.startswith(p.rstrip("/") + "/") for p in mounts), \
        f"{status_file} is not on a writable volume ({mounts})"
    assert env.get("DOCK_WEB_HOOK", "").startswith("http"), env.get("DOCK_WEB_HOOK")
