#!/usr/bin/env python3
"""`make bench-compare`: runs lz_bench (and bench_python.py), then the same workloads in NumPy and PyTorch with the
same thread count, and prints each figure for the three with Lazuli's speed ratio to each
(> 1: Lazuli is faster). Usage: compare.py path/to/lz_bench
NumPy runs with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment."""
import os
import subprocess
import sys
import time

HERE = os.path.abspath(__file__)


def reexec_with_numpy():
    """The Makefile's python3 may be a pyenv without NumPy; Debian's has it."""
    try:
        import numpy  # noqa: F401
    except ImportError:
        if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
            os.execv("/usr/bin/python3", ["/usr/bin/python3", HERE] + sys.argv[1:])
        raise


def median_time(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    ts.sort()
    n = len(ts)
    return ts[n // 2] if n % 2 else 0.5 * (ts[n // 2 - 1] + ts[n // 2])


def emit(name, value, unit):
    print(f"{name} {value:.4g} {unit}", flush=True)


N16M = 1 << 24


def numpy_reductions(np, s):
    """The bench_reduce.c figures: each reduction over each axis of a 4096x4096 float32."""
    def softmax(ax):
        e = np.exp(s - s.max(axis=ax, keepdims=True))
        return e / e.sum(axis=ax, keepdims=True)

    def logsumexp(ax):
        m = s.max(axis=ax, keepdims=True)
        return np.log(np.exp(s - m).sum(axis=ax)) + m.squeeze(ax)
    for ax in (0, 1):
        for name, fn, reps in (("sum", lambda: s.sum(axis=ax), 7),
                               ("max", lambda: s.max(axis=ax), 7),
                               ("argmax", lambda: s.argmax(axis=ax), 7 if ax else 3),
                               ("softmax", lambda: softmax(ax), 5),
                               ("logsumexp", lambda: logsumexp(ax), 5)):
            emit(f"{name}_f32_4096x4096_axis{ax}_ms", median_time(fn, reps) * 1e3, "ms")


def torch_reductions(torch, s):
    for ax in (0, 1):
        for name, fn in (("sum", lambda: s.sum(ax)), ("max", lambda: s.amax(ax)),
                         ("argmax", lambda: s.argmax(ax)),
                         ("softmax", lambda: torch.softmax(s, ax)),
                         ("logsumexp", lambda: torch.logsumexp(s, ax))):
            emit(f"{name}_f32_4096x4096_axis{ax}_ms", median_time(fn, 5) * 1e3, "ms")


def eager_op_overhead_ns(y, add_one, finish):
    """The python_op_overhead_ns loop of bench_python.py: `y = y + 1`, 10^5 times."""
    sys.path.insert(0, os.path.dirname(HERE))
    from bench_python import op_overhead_ns
    return op_overhead_ns(lambda: y, add_one, finish)


def run_numpy(nth):
    import numpy as np
    rng = np.random.default_rng(0)
    one = np.float32(1)
    x1 = np.ones(1, np.float32)
    emit("eval_fixed_overhead_us", median_time(lambda: x1 + one, 2000) * 1e6, "us")
    x16 = np.ones(16, np.float32)
    emit("python_op_overhead_ns",
         eager_op_overhead_ns(np.zeros(16, np.float32), lambda y: y + 1, lambda y: y), "ns")

    def chain():
        y = x16
        for _ in range(1000):
            y = y + one
    emit("eval_ns_per_node", median_time(chain, 9) * 1e9 / 1000, "ns")
    a = rng.uniform(-1, 1, N16M).astype(np.float32)
    b = rng.uniform(-1, 1, N16M).astype(np.float32)
    out = np.empty_like(a)
    emit("stream_copy_GBps", 2 * N16M * 4 / median_time(lambda: np.copyto(out, a), 7) / 1e9, "GB/s")
    emit("add_f32_16M_GBps", 3 * N16M * 4 / median_time(lambda: a + b, 7) / 1e9, "GB/s")
    emit("chain8_f32_16M_ms", median_time(
        lambda: np.exp(a) * 2 + np.sin(a) - a * a + np.tanh(a) / 3, 3) * 1e3, "ms")
    emit("sum_f32_16M_GBps", N16M * 4 / median_time(lambda: a.sum(), 7) / 1e9, "GB/s")
    s = rng.uniform(-4, 4, (4096, 4096)).astype(np.float32)
    g = rng.uniform(0.5, 1.5, 4096).astype(np.float32)

    def softmax():
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    def layer_norm():
        mu = s.mean(axis=-1, keepdims=True)
        var = s.var(axis=-1, keepdims=True)
        return (s - mu) / np.sqrt(var + 1e-5) * g + 0.1
    emit("softmax_f32_4096x4096_ms", median_time(softmax, 3) * 1e3, "ms")
    emit("layer_norm_f32_4096x4096_ms", median_time(layer_norm, 3) * 1e3, "ms")
    numpy_reductions(np, s)
    for n, reps in ((1024, 7), (4096, 3)):
        m1 = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        m2 = rng.uniform(-1, 1, (n, n)).astype(np.float32)
        emit(f"matmul_f32_{n}_gflops", 2 * n ** 3 / median_time(lambda: m1 @ m2, reps) / 1e9,
             "GFLOP/s")
    h1 = rng.uniform(-1, 1, (256, 256)).astype(np.float16)  # NumPy's float16 matmul is slow:
    t = median_time(lambda: h1 @ h1, 3)                      # time a 256 one, report the rate
    emit("matmul_f16_1024_gflops", 2 * 256 ** 3 / t / 1e9, "GFLOP/s(256)")


def run_torch(nth):
    import torch
    torch.set_num_threads(nth)
    torch.manual_seed(0)
    one = 1.0
    x1 = torch.ones(1)
    emit("eval_fixed_overhead_us", median_time(lambda: x1 + one, 2000) * 1e6, "us")
    x16 = torch.ones(16)
    emit("python_op_overhead_ns",
         eager_op_overhead_ns(torch.zeros(16), lambda y: y + 1, lambda y: y), "ns")

    def chain():
        y = x16
        for _ in range(1000):
            y = y + one
    emit("eval_ns_per_node", median_time(chain, 9) * 1e9 / 1000, "ns")
    a = torch.rand(N16M) * 2 - 1
    b = torch.rand(N16M) * 2 - 1
    out = torch.empty_like(a)
    emit("stream_copy_GBps", 2 * N16M * 4 / median_time(lambda: out.copy_(a), 7) / 1e9, "GB/s")
    emit("add_f32_16M_GBps", 3 * N16M * 4 / median_time(lambda: a + b, 7) / 1e9, "GB/s")
    emit("chain8_f32_16M_ms", median_time(
        lambda: torch.exp(a) * 2 + torch.sin(a) - a * a + torch.tanh(a) / 3, 3) * 1e3, "ms")
    emit("sum_f32_16M_GBps", N16M * 4 / median_time(lambda: a.sum(), 7) / 1e9, "GB/s")
    s = torch.rand(4096, 4096) * 8 - 4
    g = torch.rand(4096) + 0.5
    bias = torch.full((4096,), 0.1)
    emit("softmax_f32_4096x4096_ms",
         median_time(lambda: torch.softmax(s, -1), 3) * 1e3, "ms")
    emit("layer_norm_f32_4096x4096_ms", median_time(
        lambda: torch.nn.functional.layer_norm(s, (4096,), g, bias, 1e-5), 3) * 1e3, "ms")
    torch_reductions(torch, s)
    for n, dt, reps, name in ((1024, torch.float32, 7, "matmul_f32_1024_gflops"),
                              (4096, torch.float32, 3, "matmul_f32_4096_gflops"),
                              (1024, torch.float16, 3, "matmul_f16_1024_gflops")):
        m1 = (torch.rand(n, n) * 2 - 1).to(dt)
        m2 = (torch.rand(n, n) * 2 - 1).to(dt)
        try:
            emit(name, 2 * n ** 3 / median_time(lambda: m1 @ m2, reps) / 1e9, "GFLOP/s")
        except RuntimeError as e:  # old CPU builds have no float16 matmul
            print(f"{name} skip {str(e)[:60]}", flush=True)
    # ResNet basic block, (8,64,56,56), two 3x3 convs, relu, residual
    xc = torch.rand(8, 64, 56, 56) * 2 - 1
    w1 = (torch.rand(64, 64, 3, 3) - 0.5) * 0.1
    w2 = (torch.rand(64, 64, 3, 3) - 0.5) * 0.1
    F = torch.nn.functional

    def block():
        with torch.no_grad():
            h = F.relu(F.conv2d(xc, w1, padding=1))
            return F.relu(F.conv2d(h, w2, padding=1) + xc)
    emit("conv2d_f32_resnet_block_ms", median_time(block, 5) * 1e3, "ms")
    # one layer's input and weight gradients; an ImageNet first layer (3 channels, 7x7 stride 2)
    xg, wg = xc.clone().requires_grad_(), w1.clone().requires_grad_()
    ct = torch.rand(8, 64, 56, 56) * 2 - 1

    def layer_backward():
        return torch.autograd.grad(F.conv2d(xg, wg, padding=1), (xg, wg), ct)
    emit("conv2d_f32_resnet_layer_backward_ms", median_time(layer_backward, 3) * 1e3, "ms")
    xf = torch.rand(8, 3, 224, 224) * 2 - 1
    wf = (torch.rand(64, 3, 7, 7) - 0.5) * 0.2

    def first_layer():
        with torch.no_grad():
            return F.conv2d(xf, wf, stride=2, padding=3)
    emit("conv2d_f32_first_layer_7x7s2_ms", median_time(first_layer, 5) * 1e3, "ms")
    # MLP 784-512-512-10, batch 256, SGD step
    dims = [784, 512, 512, 10]
    params = []
    for i in range(3):
        k = 1 / dims[i] ** 0.5
        params += [((torch.rand(dims[i], dims[i + 1]) * 2 - 1) * k).requires_grad_(),
                   ((torch.rand(dims[i + 1]) * 2 - 1) * k).requires_grad_()]
    xb = torch.rand(256, 784)
    yb = torch.tensor([(i * 7) % 10 for i in range(256)])

    def mlp_step():
        h = xb
        for i in range(3):
            h = h @ params[2 * i] + params[2 * i + 1]
            if i < 2:
                h = F.relu(h)
        loss = F.cross_entropy(h, yb)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, gr in zip(params, grads):
                p -= 0.01 * gr
    emit("mlp_train_step_ms", median_time(mlp_step, 7) * 1e3, "ms")
    # one pre-norm transformer block, B=8 T=128 D=256 H=4 FF=1024, loss mean(y^2)
    B, T, D, H, FF = 8, 128, 256, 4, 1024
    k = 1 / D ** 0.5
    W = [((torch.rand(D, D) * 2 - 1) * k).requires_grad_() for _ in range(4)]
    W += [((torch.rand(D, FF) * 2 - 1) * k).requires_grad_(),
          ((torch.rand(FF, D) * 2 - 1) / FF ** 0.5).requires_grad_(),
          (torch.rand(D) * 0.2 + 0.9).requires_grad_(), (torch.rand(D) * 0.2 + 0.9).requires_grad_()]
    xt = torch.rand(B, T, D) * 2 - 1

    def ln(v, gg):
        mu = v.mean(-1, keepdim=True)
        var = v.var(-1, keepdim=True, unbiased=False)
        return (v - mu) * torch.rsqrt(var + 1e-5) * gg

    def heads(v):
        return v.reshape(B, T, H, D // H).transpose(1, 2)

    def block_step():
        h = ln(xt, W[6])
        q, kk, v = heads(h @ W[0]), heads(h @ W[1]), heads(h @ W[2])
        att = torch.softmax(q @ kk.transpose(-1, -2) * (1 / (D // H) ** 0.5), -1) @ v
        x2 = xt + att.transpose(1, 2).reshape(B, T, D) @ W[3]
        f = ln(x2, W[7]) @ W[4]
        f = 0.5 * f * (torch.tanh(0.7978845608 * (f + 0.044715 * f * f * f)) + 1)
        loss = ((x2 + f @ W[5]) ** 2).mean()
        grads = torch.autograd.grad(loss, W)
        with torch.no_grad():
            for p, gr in zip(W, grads):
                p -= 0.01 * gr
    emit("transformer_train_step_ms", median_time(block_step, 5) * 1e3, "ms")

    def grad_chain():
        x = torch.tensor(0.5, requires_grad=True)
        y = x
        for _ in range(333):
            y = torch.sin(y) * 0.9 + 0.1
        (gx,) = torch.autograd.grad(y + x, x)
        return gx.item()
    emit("grad_1000_scalar_ops_ms", median_time(grad_chain, 9) * 1e3, "ms")


def parse(text):
    vals = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] != "skip":
            try:
                vals[parts[0]] = (float(parts[1]), parts[2])
            except ValueError:
                pass
    return vals


def run_child(kind, nth, strip_env):
    env = dict(os.environ)
    for k in strip_env:
        env.pop(k, None)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(nth)
    try:
        r = subprocess.run([sys.executable, HERE, "--" + kind, str(nth)], env=env,
                           capture_output=True, text=True, timeout=150)
    except subprocess.TimeoutExpired:
        print(f"compare: {kind} timed out", file=sys.stderr)
        return {}
    if r.returncode != 0:
        print(f"compare: {kind} failed:\n{r.stderr[-2000:]}", file=sys.stderr)
    return parse(r.stdout)


def higher_is_better(unit):
    return unit.startswith("GB/s") or unit.startswith("GFLOP/s") or unit in ("x", "ratio")


def main():
    reexec_with_numpy()
    if len(sys.argv) == 3 and sys.argv[1] in ("--numpy", "--torch"):
        (run_numpy if sys.argv[1] == "--numpy" else run_torch)(int(sys.argv[2]))
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    t0 = time.time()
    r = subprocess.run([sys.argv[1]], capture_output=True, text=True, timeout=900)
    sys.stderr.write(r.stderr)
    lz_lines = r.stdout
    # The Python figures, from the package built next to lz_bench (<build>/bench/lz_bench).
    build = os.path.dirname(os.path.dirname(os.path.abspath(sys.argv[1])))
    py = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "bench_python.py"),
                         build], capture_output=True, text=True, timeout=300)
    sys.stderr.write(py.stderr)
    lz_lines += py.stdout
    lz = parse(lz_lines)
    nth = int(lz.get("threads", (os.cpu_count() or 1, ""))[0])
    np_vals = run_child("numpy", nth, ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"))
    th_vals = run_child("torch", nth, ())
    print(f"# {nth} threads; ratio = how many times faster Lazuli is (> 1: Lazuli wins)")
    print(f"{'figure':38s} {'lazuli':>10s} {'numpy':>10s} {'torch':>10s} {'vs numpy':>9s} "
          f"{'vs torch':>9s}  unit")
    for line in lz_lines.splitlines():
        parts = line.split()
        if len(parts) < 3 or parts[0] == "threads":
            continue
        name = parts[0]
        if parts[1] == "skip":
            print(f"{name:38s} {'skip':>10s}  ({' '.join(parts[2:])})")
            continue
        v, unit = lz[name]
        cells, ratios = [], []
        for other in (np_vals, th_vals):
            if name in other:
                o = other[name][0]
                cells.append(f"{o:10.4g}")
                r_ = (v / o if higher_is_better(unit) else o / v) if o and v else float("nan")
                ratios.append(f"{r_:9.2f}")
            else:
                cells.append(f"{'-':>10s}")
                ratios.append(f"{'-':>9s}")
        print(f"{name:38s} {v:10.4g} {cells[0]} {cells[1]} {ratios[0]} {ratios[1]}  {unit}")
    print(f"# compare: {time.time() - t0:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
