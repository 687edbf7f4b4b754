"""examples/python: the MLX-style training programs run unchanged through the launcher on a
small budget, and their loss falls (each program checks that itself with --smoke)."""
import os
import subprocess
import sys

import pytest

import lazuli
import lazuli.core  # noqa: F401  (the extension must load before the children start)

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "python")
MNIST = "/usr/share/datasets/fashion-mnist"
FORTUNES = "/usr/share/games/fortunes"



def run_example(name, *args):
    env = dict(os.environ)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(lazuli.__file__)))
    env["PYTHONPATH"] = pkg_root + os.pathsep + env.get("PYTHONPATH", "")
    r = subprocess.run(
        [sys.executable, "-m", "lazuli.run", os.path.join(EXAMPLES, name), "--smoke", *args],
        env=env, capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "loss " in r.stdout and " -> " in r.stdout
    return r.stdout


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="dataset-fashion-mnist is not installed")
def test_mlp():
    out = run_example("mlp.py")
    assert "Test accuracy" in out


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="dataset-fashion-mnist is not installed")
def test_mlp_export():
    # 500 test images in batches of 300: two traces (300 and 200) in one file
    out = run_example("mlp_export.py")
    assert ", 2 traces, imported in " in out
    acc = [line.split("test accuracy ")[1] for line in out.splitlines() if "test accuracy" in line]
    assert len(acc) == 2 and acc[0] == acc[1], out


@pytest.mark.skipif(not os.path.isdir(MNIST), reason="dataset-fashion-mnist is not installed")
def test_cnn():
    run_example("cnn.py")


@pytest.mark.skipif(not os.path.isdir(FORTUNES), reason="fortunes is not installed")
def test_transformer_lm():
    out = run_example("transformer_lm.py")
    assert "Iter 60" in out
