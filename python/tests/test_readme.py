"""The README's Python samples run: every ```python block that imports lazuli is executed, and
its output must equal the ```text block that follows it (when one follows after a line of
prose). The shell one-liner of the first Python program runs too."""
import contextlib
import io
import os
import re
import subprocess
import sys

import pytest

README = os.path.join(os.path.dirname(__file__), "..", "..", "README.md")


def blocks():
    text = open(README).read()
    found = []
    for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S):
        found.append((m.group(1), m.group(2), m.start(), m.end()))
    return text, found


def python_samples():
    text, found = blocks()
    out = []
    for i, (lang, code, start, end) in enumerate(found):
        if lang != "python" or "import lazuli" not in code:
            continue
        expected = None
        if i + 1 < len(found) and found[i + 1][0] == "text":
            between = text[end:found[i + 1][2]]
            if len(between.strip().splitlines()) <= 2:  # "prints" or nothing in between
                expected = found[i + 1][1]
        out.append((code, expected))
    return out


SAMPLES = python_samples()


def test_readme_has_python_samples():
    assert SAMPLES, "README.md lost its Python samples"


@pytest.mark.parametrize("code,expected", SAMPLES, ids=[f"sample{i}" for i in range(len(SAMPLES))])
def test_readme_python_sample(code, expected):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    if expected is not None:
        assert buf.getvalue() == expected


def test_readme_shell_one_liner():
    """`python3 -c "import lazuli ..."` lines print what the ```text block after them shows."""
    _, found = blocks()
    checked = 0
    for i, (lang, code, _, _) in enumerate(found):
        if lang != "sh":
            continue
        for ln in code.splitlines():
            if not ln.startswith('python3 -c "import lazuli'):
                continue
            src = ln[len('python3 -c "'):ln.rindex('"')]
            r = subprocess.run([sys.executable, "-c", src], capture_output=True, text=True,
                               env=dict(os.environ), timeout=60)
            assert r.returncode == 0, r.stderr
            if i + 1 < len(found) and found[i + 1][0] == "text":
                assert r.stdout == found[i + 1][1]
                checked += 1
    assert checked
