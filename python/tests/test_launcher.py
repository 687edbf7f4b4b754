"""python3 -m lazuli.run: MLX programs run unchanged, with mlx.* resolved to lazuli.*."""
import os
import subprocess
import sys
import textwrap

import lazuli.core  # noqa: F401  (the package must be importable for the children too)
import lazuli


def _env():
    env = dict(os.environ)
    pkg_root = os.path.dirname(os.path.dirname(os.path.abspath(lazuli.__file__)))
    env["PYTHONPATH"] = pkg_root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(tmp_path, source, *args, module=False):
    script = tmp_path / "prog.py"
    script.write_text(textwrap.dedent(source))
    cmd = [sys.executable, "-m", "lazuli.run"]
    if module:
        cmd += ["-m", "prog"]
    else:
        cmd += [str(script)]
    return subprocess.run(
        cmd + list(args), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120
    )


def test_modules_resolve_to_lazuli(tmp_path):
    r = _run(
        tmp_path,
        """
        import mlx
        import mlx.core as mx
        import mlx.nn as nn
        import mlx.optimizers as optim
        import mlx.utils
        from mlx.utils import tree_flatten
        from mlx.nn import losses
        import mlx.nn.losses
        import lazuli, lazuli.core, lazuli.nn, lazuli.optimizers, lazuli.utils
        assert mlx is lazuli
        assert mx is lazuli.core and mx.array is lazuli.core.array
        assert nn is lazuli.nn and nn.Module is lazuli.nn.Module
        assert optim is lazuli.optimizers
        assert mlx.utils is lazuli.utils and tree_flatten is lazuli.utils.tree_flatten
        assert losses is lazuli.nn.losses and mlx.nn.losses is lazuli.nn.losses
        for sub in ("random", "linalg", "fft", "fast"):
            if hasattr(lazuli.core, sub):
                import importlib
                assert importlib.import_module("mlx.core." + sub) is getattr(lazuli.core, sub)
        print("ok")
        """,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "ok"


def test_argv_main_and_path(tmp_path):
    (tmp_path / "helper_mod.py").write_text("VALUE = 41\n")
    r = _run(
        tmp_path,
        """
        import sys
        import helper_mod
        if __name__ == "__main__":
            print(repr(sys.argv[1:]), helper_mod.VALUE + 1, sys.argv[0].endswith("prog.py"))
        """,
        "--lr",
        "0.1",
        "x y",
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "['--lr', '0.1', 'x y'] 42 True"


def test_exit_status_and_exceptions_propagate(tmp_path):
    r = _run(tmp_path, "import sys\nsys.exit(3)\n")
    assert r.returncode == 3
    r = _run(tmp_path, "raise KeyError('boom')\n")
    assert r.returncode == 1 and "KeyError: 'boom'" in r.stderr


def test_run_module(tmp_path):
    r = _run(tmp_path, "import sys, mlx.core\nprint(__name__, sys.argv[1:])\n", "q", module=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "__main__ ['q']"


def test_missing_script_and_usage(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "lazuli.run", str(tmp_path / "nope.py")],
        env=_env(), capture_output=True, text=True, timeout=60,
    )
    assert r.returncode == 2 and "No such file" in r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "lazuli.run"], env=_env(), capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2 and "usage" in r.stderr


def test_nothing_named_mlx_is_installed():
    import importlib.util

    # Outside the launcher, mlx does not resolve (unless a real MLX is installed, which would
    # not be ours).
    spec = importlib.util.find_spec("mlx")
    assert spec is None or "lazuli" not in (spec.origin or "")


def test_an_mlx_training_script_runs_unchanged(tmp_path):
    """A script in MLX's idiom, touching modules, losses, optimizers with a schedule, a compiled
    step, saving and loading weights, tree utilities and quantization."""
    r = _run(
        tmp_path,
        """
        from functools import partial

        import mlx.core as mx
        import mlx.nn as nn
        import mlx.optimizers as optim
        from mlx.utils import tree_flatten, tree_map

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = [nn.Linear(16, 64), nn.Linear(64, 4)]
                self.norm = nn.LayerNorm(64)

            def __call__(self, x):
                return self.layers[1](nn.gelu(self.norm(self.layers[0](x))))

        mx.random.seed(0)
        x = mx.random.normal((256, 16))
        y = mx.argmax(x[:, :4], axis=1)
        model = Net()
        mx.eval(model.parameters())

        def loss_fn(model, x, y):
            return nn.losses.cross_entropy(model(x), y, reduction="mean")

        lr = optim.join_schedules([optim.linear_schedule(0, 1e-2, 5), optim.cosine_decay(1e-2, 50)], [5])
        optimizer = optim.AdamW(learning_rate=lr)
        loss_and_grad = nn.value_and_grad(model, loss_fn)
        optimizer.init(model.trainable_parameters())
        state = [model.state, optimizer.state]

        @partial(mx.compile, inputs=state, outputs=state)
        def step(x, y):
            loss, grads = loss_and_grad(model, x, y)
            grads, _ = optim.clip_grad_norm(grads, 1.0)
            optimizer.update(model, grads)
            return loss

        losses = []
        for _ in range(40):
            losses.append(step(x, y).item())
            mx.eval(state)
        assert losses[-1] < 0.5 * losses[0], losses

        model.save_weights("net.safetensors")
        fresh = Net()
        fresh.load_weights("net.safetensors")
        assert mx.allclose(fresh(x), model(x)).item()
        n = sum(v.size for _, v in tree_flatten(model.parameters()))
        assert n == 16 * 64 + 64 + 64 * 4 + 4 + 2 * 64
        model.update(tree_map(lambda p: p * 1.0, model.parameters()))

        nn.quantize(model, group_size=32, bits=8, class_predicate=lambda p, m: isinstance(m, nn.Linear) and m.weight.shape[-1] % 32 == 0)
        assert isinstance(model.layers[1], nn.QuantizedLinear) and isinstance(model.layers[0], nn.Linear)
        acc = mx.mean(mx.argmax(model(x), axis=1) == y).item()
        print(f"ok {losses[0]:.3f} {losses[-1]:.3f} {acc:.2f}")
        """,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok ")
