#!/usr/bin/env python3
"""`make bench-compare`: runs lz_bench (and bench_python.py), then the same workloads in NumPy and PyTorch with the
same thread count, and prints each figure for the three with Lazuli's speed ratio to each
(> 1: Lazuli is faster); then each figure beside its limit (lz_bench times them interleaved),
and the training steps against PyTorch alternated round by round. Usage: compare.py path/to/lz_bench
Each peer runs in its best configuration here (PEER_ENV below); NumPy runs with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE removed from its environment. The training steps are
bench_train.c's, written as PyTorch users write them; PyTorch's AdamW applies its bias
correction (a per-step scalar), MLX's default (the bench's) does not."""
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


def median_time(fn, reps, warmup=1, clock=time.perf_counter):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = clock()
        fn()
        ts.append(clock() - t0)
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


def numpy_mlp_step(np, rng):
    """The MLP step of bench_train.c with its backward pass written out: forward, softmax
    cross-entropy, gradients, SGD, in float32."""
    dims = [784, 512, 512, 10]
    W = [((rng.random((dims[i], dims[i + 1]), np.float32) * 2 - 1) / np.float32(dims[i] ** 0.5))
         for i in range(3)]
    b = [np.zeros(dims[i + 1], np.float32) for i in range(3)]
    x = rng.random((256, 784), np.float32)
    y = np.arange(256) * 7 % 10
    onehot = np.zeros((256, 10), np.float32)
    onehot[np.arange(256), y] = 1

    def step():
        h1 = np.maximum(x @ W[0] + b[0], 0)
        h2 = np.maximum(h1 @ W[1] + b[1], 0)
        z = h2 @ W[2] + b[2]
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = float(-np.log(p[np.arange(256), y]).mean())
        dz = (p - onehot) / np.float32(256)
        d2 = (dz @ W[2].T) * (h2 > 0)
        d1 = (d2 @ W[1].T) * (h1 > 0)
        grads = [(x.T @ d1, d1.sum(0)), (h1.T @ d2, d2.sum(0)), (h2.T @ dz, dz.sum(0))]
        for i, (gw, gb) in enumerate(grads):
            W[i] -= np.float32(0.01) * gw
            b[i] -= np.float32(0.01) * gb
        return loss
    emit("mlp_train_step_ms", median_time(step, 9) * 1e3, "ms")


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
    numpy_mlp_step(np, rng)
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
    xfg, wfg = xf.clone().requires_grad_(), wf.clone().requires_grad_()
    ctf = torch.rand(8, 64, 112, 112) * 2 - 1

    def first_backward():
        return torch.autograd.grad(F.conv2d(xfg, wfg, stride=2, padding=3), (xfg, wfg), ctf)
    emit("conv2d_f32_first_layer_7x7s2_backward_ms", median_time(first_backward, 3) * 1e3, "ms")
    # a depthwise 3x3 layer's weight gradient, (8,128,56,56)
    xd = torch.rand(8, 128, 56, 56) * 2 - 1
    wd = ((torch.rand(128, 1, 3, 3) - 0.5) * 0.6).requires_grad_()
    ctd = torch.rand(8, 128, 56, 56) * 2 - 1

    def depthwise_weight_grad():
        return torch.autograd.grad(F.conv2d(xd, wd, padding=1, groups=128), (wd,), ctd)
    emit("conv2d_f32_depthwise_weight_grad_ms", median_time(depthwise_weight_grad, 5) * 1e3, "ms")
    train_steps(torch, emit)
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
    emit("transformer_block_train_step_ms", median_time(block_step, 5) * 1e3, "ms")

    def grad_chain():
        x = torch.tensor(0.5, requires_grad=True)
        y = x
        for _ in range(333):
            y = torch.sin(y) * 0.9 + 0.1
        (gx,) = torch.autograd.grad(y + x, x)
        return gx.item()
    emit("grad_1000_scalar_ops_ms", median_time(grad_chain, 9) * 1e3, "ms")


def train_steps(torch, emit):
    """The named training steps of bench_train.c, whole steps (forward, backward, optimizer
    update; PyTorch is eager, .item() waits for the loss): the MLP with SGD and the GPT-style LM
    with AdamW, in PyTorch's fastest form available here (F.linear, fused addmm; foreach
    optimizers; 1.13 has no scaled_dot_product_attention, so attention is composed)."""
    import resource
    F = torch.nn.functional

    def timed(name, step, reps):
        for _ in range(2):
            step()
        f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        t = median_time(step, reps, warmup=0)
        f1 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        emit(name + "_ms", t * 1e3, "ms")
        # CPU time of the process per step (every thread), as lz_bench's _cpu_ms
        emit(name + "_cpu_ms", median_time(step, reps, warmup=0, clock=time.process_time) * 1e3,
             "ms")
        emit(name + "_faults_per_step", (f1 - f0) / reps, "faults")

    def lin(i, o, bias=True):
        k = 1 / i ** 0.5
        w = ((torch.rand(o, i) * 2 - 1) * k).requires_grad_()
        return [w, ((torch.rand(o) * 2 - 1) * k).requires_grad_()] if bias else [w]

    def opt_kwargs():  # foreach (multi-tensor) updates where this PyTorch has them
        import inspect
        return {"foreach": True} if "foreach" in inspect.signature(torch.optim.SGD).parameters else {}
    # MLP 784-512-512-10, batch 256, cross-entropy, SGD
    mlp = lin(784, 512) + lin(512, 512) + lin(512, 10)
    sgd = torch.optim.SGD(mlp, lr=0.01, **opt_kwargs())
    xb = torch.rand(256, 784)
    yb = torch.tensor([(i * 7) % 10 for i in range(256)])

    def mlp_step():
        h = F.relu(F.linear(xb, mlp[0], mlp[1]))
        h = F.relu(F.linear(h, mlp[2], mlp[3]))
        loss = F.cross_entropy(F.linear(h, mlp[4], mlp[5]), yb)
        sgd.zero_grad(set_to_none=True)
        loss.backward()
        sgd.step()
        return loss.item()
    timed("mlp_train_step", mlp_step, 9)
    # GPT-style LM: vocab 256, seq 128, batch 16, d 256, 4 heads, 2 pre-LN blocks, MLP 1024
    # (GELU), final LN, untied head, cross-entropy, AdamW (lr 1e-3, wd 0.01)
    V, T, B, D, H, FF, L = 256, 128, 16, 256, 4, 1024, 2
    tok = (torch.rand(V, D) * 0.04 - 0.02).requires_grad_()
    pos = (torch.rand(T, D) * 0.04 - 0.02).requires_grad_()
    blocks = []
    for _ in range(L):
        ln1 = [torch.ones(D).requires_grad_(), torch.zeros(D).requires_grad_()]
        ln2 = [torch.ones(D).requires_grad_(), torch.zeros(D).requires_grad_()]
        blocks.append(ln1 + lin(D, 3 * D) + lin(D, D) + ln2 + lin(D, FF) + lin(FF, D))
    lnf = [torch.ones(D).requires_grad_(), torch.zeros(D).requires_grad_()]
    head = lin(D, V, bias=False)
    params = [tok, pos] + [p for b in blocks for p in b] + lnf + head
    adamw = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                              **opt_kwargs())
    r = torch.arange(B).unsqueeze(1)
    c = torch.arange(T + 1).unsqueeze(0)
    seq = (r * 131 + c * 7 + (c % 5)) % V
    tokens, targets = seq[:, :T].contiguous(), seq[:, 1:].contiguous()
    causal = torch.ones(T, T, dtype=torch.bool).tril()
    dh = D // H

    def lm_step():
        x = tok[tokens] + pos
        for q in blocks:
            h = F.layer_norm(x, (D,), q[0], q[1], 1e-5)
            qkv = F.linear(h, q[2], q[3]).view(B, T, 3, H, dh).permute(2, 0, 3, 1, 4)
            s_ = (qkv[0] @ qkv[1].transpose(-1, -2)) * (1 / dh ** 0.5)
            a = torch.softmax(s_.masked_fill(~causal, float("-inf")), -1) @ qkv[2]
            x = x + F.linear(a.transpose(1, 2).reshape(B, T, D), q[4], q[5])
            h = F.gelu(F.linear(F.layer_norm(x, (D,), q[6], q[7], 1e-5), q[8], q[9]))
            x = x + F.linear(h, q[10], q[11])
        logits = F.linear(F.layer_norm(x, (D,), lnf[0], lnf[1], 1e-5), head[0])
        loss = F.cross_entropy(logits.view(B * T, V), targets.view(B * T))
        adamw.zero_grad(set_to_none=True)
        loss.backward()
        adamw.step()
        return loss.item()
    timed("transformer_train_step", lm_step, 5)


STEP_FIGURES = ("mlp_train_step_ms", "transformer_train_step_ms")


def alternated_steps(lz_bench, nth, rounds=3):
    """The training steps against PyTorch with the two alternated, round by round (Lazuli's
    steps, then PyTorch's, `rounds` times), so that the load of a shared machine hits both
    alike: prints each round's ratio and their median."""
    names = [n for f in STEP_FIGURES for n in (f, f.replace("_ms", "_cpu_ms"))]
    ratios = {name: [] for name in names}
    for _ in range(rounds):
        r = subprocess.run([lz_bench, "mlp", "transformer"], capture_output=True, text=True,
                           timeout=1800)
        lz = parse(r.stdout)
        th = run_child("torch-steps", nth, ())
        for name in names:
            if name in lz and name in th and lz[name][0] > 0:
                ratios[name].append(th[name][0] / lz[name][0])
    print(f"# training steps, Lazuli and PyTorch alternated {rounds} times: PyTorch's time over "
          "Lazuli's per round (> 1: Lazuli wins), then the median; _cpu_ms: CPU time of the "
          "process per step, which a loaded machine moves less than wall time")
    for name, rs in ratios.items():
        if rs:
            med = sorted(rs)[len(rs) // 2]
            print(f"{name:38s} " + " ".join(f"{x:6.2f}" for x in rs) + f"   median {med:.2f}")


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


# Each peer runs in its best configuration for this machine, set in the child's environment
# before it loads: the same thread count; OpenMP threads that sleep instead of spinning when
# idle (PyTorch's OpenMP pool otherwise spins against the BLAS threads on 2 cores); and glibc's
# malloc keeping freed memory (no munmap) in transparent huge pages, because on these VMs a page
# fault costs ~11 us and PyTorch's CPU allocator has no cache of its own: without it PyTorch's
# chain8 takes ~147K faults per run (1.6 s; 10 per run with it). NumPy madvises its big arrays
# itself and gets the same setting.
PEER_ENV = {
    "OMP_WAIT_POLICY": "PASSIVE",
    "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1:glibc.malloc.mmap_threshold=4294967296:"
                      "glibc.malloc.trim_threshold=17179869184",
}


def run_child(kind, nth, strip_env):
    env = dict(os.environ)
    for k in strip_env:
        env.pop(k, None)
    env.update(PEER_ENV)
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(nth)
    try:
        r = subprocess.run([sys.executable, HERE, "--" + kind, str(nth)], env=env,
                           capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        print(f"compare: {kind} timed out", file=sys.stderr)
        return {}
    if r.returncode != 0:
        print(f"compare: {kind} failed:\n{r.stderr[-2000:]}", file=sys.stderr)
    return parse(r.stdout)


# Each figure beside the limit it is measured against and lz_bench's ratio of the two, taken
# from the best of their interleaved runs (the figures themselves are medians).
LIMITS = (
    ("chain8_f32_16M_compiled_ms", "chain8_f32_16M_fused_limit_ms",
     "chain8_f32_16M_compiled_over_limit"),
    ("layer_norm_f32_4096x4096_compiled_ms", "layer_norm_f32_4096x4096_limit_ms",
     "layer_norm_f32_4096x4096_compiled_over_limit"),
    ("add_f32_16M_GBps", "stream_copy_GBps", "add_f32_16M_fraction_of_stream"),
    ("sum_f32_16M_GBps", "stream_copy_GBps", "sum_f32_16M_fraction_of_stream"),
    ("mlp_train_step_ms", "mlp_train_step_gemm_floor_ms", "mlp_train_step_over_gemm_floor"),
    ("mlp_train_step_compiled_ms", "mlp_train_step_gemm_floor_ms",
     "mlp_train_step_compiled_over_gemm_floor"),
    ("transformer_train_step_ms", "transformer_train_step_gemm_floor_ms",
     "transformer_train_step_over_gemm_floor"),
    ("transformer_train_step_compiled_ms", "transformer_train_step_gemm_floor_ms",
     "transformer_train_step_compiled_over_gemm_floor"),
)


def higher_is_better(unit):
    return unit.startswith("GB/s") or unit.startswith("GFLOP/s") or unit in ("x", "ratio")


def main():
    reexec_with_numpy()
    if len(sys.argv) == 3 and sys.argv[1] in ("--numpy", "--torch", "--torch-steps"):
        if sys.argv[1] == "--torch-steps":
            import torch
            torch.set_num_threads(int(sys.argv[2]))
            torch.manual_seed(0)
            train_steps(torch, emit)
        else:
            (run_numpy if sys.argv[1] == "--numpy" else run_torch)(int(sys.argv[2]))
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    t0 = time.time()
    r = subprocess.run([sys.argv[1]], capture_output=True, text=True, timeout=1800)
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
    print("# limits, from the same lz_bench run, timed interleaved: figure, its limit (medians), "
          "figure / limit of the best runs (a time: how many times the limit; a bandwidth: "
          "the fraction of it reached)")
    for fig, lim, ratio in LIMITS:
        if fig in lz and lim in lz and ratio in lz:
            print(f"{fig:38s} {lz[fig][0]:10.4g} {lim:>38s} {lz[lim][0]:10.4g} "
                  f"{lz[ratio][0]:7.2f}")
    alternated_steps(sys.argv[1], nth)
    print(f"# compare: {time.time() - t0:.0f} s in all", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
