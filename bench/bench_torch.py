"""coursekit against PyTorch (CPU): one training step of the same MLP.

The step is forward, softmax cross-entropy loss (mean over the batch, integer labels), backward
and a plain SGD update, for an MLP ``2 -> H -> H -> 3`` with ReLU after both hidden layers
(the shape of the course's toy problems: 2-D inputs, three classes). Both libraries get the
same weights and the same batch; before timing, one step of each is compared (loss and updated
weights must agree) so the two really compute the same thing.

Single-threaded: ``OPENBLAS_NUM_THREADS=1`` (NumPy) and ``torch.set_num_threads(1)``.

    python bench/bench_torch.py            # full grid, float32 and float64
    python bench/bench_torch.py --quick    # fewer sizes
    python bench/bench_torch.py --dtype float32 --batch 256 --hidden 32 --hidden 64 --no-diagnostics
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import single_threaded_env

single_threaded_env()

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402

from _common import MIB, PartResult, Row, fmt_mib, fmt_time, in_child, skipped, time_pair  # noqa: E402

D_IN, CLASSES, LR = 2, 3, 0.05
BATCHES = [32, 64, 128, 256, 512, 1024]
HIDDENS = [16, 32, 64, 128, 256, 512]
QUICK_BATCHES = [32, 128, 1024]
QUICK_HIDDENS = [16, 64, 512]
# What the course itself trains: 2-D toy data sets of a few hundred points, a few dozen units.
COURSE_BATCHES = {32, 64, 128, 256}
COURSE_HIDDENS = {16, 32, 64}


def _data(batch: int, dtype: str):
    import numpy as np

    rng = np.random.default_rng(batch)
    X = rng.normal(size=(batch, D_IN)).astype(dtype)
    y = rng.integers(0, CLASSES, size=batch)
    return X, y


def _coursekit_step(batch: int, hidden: int, dtype: str):
    """The coursekit model, optimiser and a closure doing one step; returns (step, model)."""
    from coursekit.losses import cce_with_logits, cce_with_logits_grad
    from coursekit.nn import mlp
    from coursekit.optim import SGD

    X, y = _data(batch, dtype)
    model = mlp([D_IN, hidden, hidden, CLASSES], "relu", rng=0, dtype=dtype)
    opt = SGD(model.parameters(), lr=LR)

    def step() -> float:
        z = model.forward(X)
        loss = cce_with_logits(z, y)
        model.backward(cce_with_logits_grad(z, y))
        opt.step()
        return loss

    return step, model


def _torch_step(batch: int, hidden: int, dtype: str, weights=None):
    """The same network in PyTorch; ``weights`` = [(W, b), ...] copies coursekit's start."""
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(1)
    tdtype = {"float32": torch.float32, "float64": torch.float64}[dtype]
    X_np, y_np = _data(batch, dtype)
    X = torch.from_numpy(X_np)
    y = torch.from_numpy(y_np)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(D_IN, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, hidden), torch.nn.ReLU(),
        torch.nn.Linear(hidden, CLASSES),
    ).to(tdtype)  # fmt: skip
    if weights is not None:
        with torch.no_grad():
            for layer, (W, b) in zip([m for m in model if isinstance(m, torch.nn.Linear)], weights):
                layer.weight.copy_(torch.from_numpy(W))
                layer.bias.copy_(torch.from_numpy(b))
    opt = torch.optim.SGD(model.parameters(), lr=LR)

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(X), y)
        loss.backward()
        opt.step()
        return loss

    return step, model


def _check_same(dtype: str, batch: int = 64, hidden: int = 32) -> dict:
    """One step of each library from the same weights: losses and new weights must agree."""
    import numpy as np

    from coursekit.nn import Linear

    ck_step, ck_model = _coursekit_step(batch, hidden, dtype)
    linears = [m for m in ck_model if isinstance(m, Linear)]
    th_step, th_model = _torch_step(
        batch, hidden, dtype, [(m.W.copy(), m.b.copy()) for m in linears]
    )
    ck_loss = ck_step()
    th_loss = th_step().item()
    th_linears = [m for m in th_model if hasattr(m, "weight")]
    worst = abs(ck_loss - th_loss) / abs(th_loss)
    for a, b in zip(linears, th_linears):
        for mine, theirs in ((a.W, b.weight), (a.b, b.bias)):
            theirs = theirs.detach().numpy()
            worst = max(
                worst, float(np.max(np.abs(mine - theirs)) / (np.max(np.abs(theirs)) + 1e-30))
            )
    tol = 1e-5 if dtype == "float32" else 1e-12
    if not worst < tol:
        raise AssertionError(
            f"{dtype}: coursekit and torch disagree after one step (relative {worst:.2e})"
        )
    # The dtypes a backward pass runs in: the loss gradient and every layer's dL/d(input).
    from coursekit.losses import cce_with_logits_grad

    X, y = _data(batch, dtype)
    grad = cce_with_logits_grad(ck_model(X), y)
    grad_dtypes = {str(grad.dtype)}
    for layer in reversed(ck_model.layers):
        grad = layer.backward(grad)
        grad_dtypes.add(str(grad.dtype))
    return {
        "worst": worst,
        "param_dtype": str(linears[0].W.dtype),
        "grad_dtypes": ", ".join(sorted(grad_dtypes)),
    }


def _time_both(batch: int, hidden: int, dtype: str, repeats: int) -> dict:
    """Both libraries' steps timed in alternating repeats (one child process)."""
    ck_step, _ = _coursekit_step(batch, hidden, dtype)
    th_step, _ = _torch_step(batch, hidden, dtype)
    return time_pair(ck_step, th_step, repeats=repeats, min_time=0.02)


def _peak(lib: str, batch: int, hidden: int, dtype: str) -> dict:
    """Memory of one library alone (run by ``in_child``): build model and data, take 6 steps.

    ``peak_bytes`` is the rise of the peak resident set over all of it; ``step_bytes`` the rise
    during steps 2-6 alone, after the first step has done any one-time initialisation.
    """
    from _common import _reset_peak, _status_kib

    _reset_peak()
    start = _status_kib("VmRSS")
    make = _coursekit_step if lib == "coursekit" else _torch_step
    step, _ = make(batch, hidden, dtype)
    step()
    first = _status_kib("VmHWM")
    _reset_peak()
    steady_start = _status_kib("VmRSS")
    for _ in range(5):
        step()
    steady = _status_kib("VmHWM")
    return {
        "peak_bytes": (max(first, steady) - start) * 1024,
        "step_bytes": max(0, steady - steady_start) * 1024,
    }


def _gemm(batch: int, hidden: int, dtype: str, repeats: int) -> dict:
    """Diagnostic: the largest matrix product of a step alone, NumPy's BLAS against PyTorch's."""
    import numpy as np
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    A = rng.normal(size=(batch, hidden)).astype(dtype)
    W = rng.normal(size=(hidden, hidden)).astype(dtype)
    tA, tW = torch.from_numpy(A), torch.from_numpy(W)
    return time_pair(lambda: A @ W.T, lambda: tA @ tW.T, repeats=repeats, min_time=0.02)


def _bare_step(batch: int, hidden: int, dtype: str, weights):
    """The same step written as plain NumPy expressions, without layers or input checks."""
    import numpy as np

    X, y = _data(batch, dtype)
    (W1, b1), (W2, b2), (W3, b3) = [(W.copy(), b.copy()) for W, b in weights]
    rows = np.arange(batch)

    def step() -> float:
        z1 = X @ W1.T + b1
        h1 = np.maximum(z1, 0)
        z2 = h1 @ W2.T + b2
        h2 = np.maximum(z2, 0)
        z3 = h2 @ W3.T + b3
        shifted = z3 - z3.max(axis=1, keepdims=True)
        e = np.exp(shifted)
        total = e.sum(axis=1, keepdims=True)
        loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, y]))
        g3 = e / total
        g3[rows, y] -= 1
        g3 /= batch
        g2 = (g3 @ W3) * (z2 > 0)
        g1 = (g2 @ W2) * (z1 > 0)
        grads = (g1.T @ X, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0))
        for param, grad in zip((W1, b1, W2, b2, W3, b3), grads):
            param -= LR * grad
        return loss

    return step


def _against_bare(batch: int, hidden: int, dtype: str, repeats: int) -> dict:
    """Diagnostic: coursekit's step against the same math in bare NumPy (checked equal first)."""
    from coursekit.nn import Linear

    ck_step, model = _coursekit_step(batch, hidden, dtype)
    weights = [(m.W.copy(), m.b.copy()) for m in model if isinstance(m, Linear)]
    check = _bare_step(batch, hidden, dtype, weights)
    a, b = ck_step(), check()
    if not abs(a - b) <= 1e-4 * abs(b):
        raise AssertionError(f"bare NumPy step disagrees with coursekit: loss {b} vs {a}")
    return time_pair(
        ck_step, _bare_step(batch, hidden, dtype, weights), repeats=repeats, min_time=0.02
    )


def _profile_course_size(batch: int, hidden: int, dtype: str) -> dict:
    step, _ = _coursekit_step(batch, hidden, dtype)
    for _ in range(50):
        step()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(2000):
        step()
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(14)
    text = out.getvalue()
    start = text.find("   ncalls")
    return {"text": text[start:].rstrip()}


def run(
    quick: bool = False,
    repeats: int = 7,
    dtypes: tuple[str, ...] = ("float32", "float64"),
    batches: list[int] | None = None,
    hiddens: list[int] | None = None,
    diagnostics: bool = True,
) -> PartResult:
    """Time the grid; ``batches``/``hiddens`` override the (quick) grid, ``diagnostics=False``
    stops after the grids (no bare-NumPy, matrix-product or profile sections)."""
    part = "torch"
    try:
        import torch  # noqa: F401
    except ImportError:
        return skipped(part, "torch is not installed (make bench installs bench/requirements.txt)")
    try:
        from coursekit.nn import mlp  # noqa: F401
        from coursekit.optim import SGD  # noqa: F401
        from coursekit.losses import cce_with_logits_grad  # noqa: F401
    except ImportError as exc:
        return skipped(part, f"coursekit.nn/optim/losses not present ({exc})")
    import torch as _torch

    _torch.set_num_threads(1)
    _torch.set_num_interop_threads(1)

    result = PartResult(part)
    batches = sorted(batches or (QUICK_BATCHES if quick else BATCHES))
    hiddens = sorted(hiddens or (QUICK_HIDDENS if quick else HIDDENS))
    grids: dict[str, dict[tuple[int, int], dict]] = {}
    for dtype in dtypes:
        same = in_child(_check_same, dtype)
        result.notes.append(
            f"torch: {dtype} step checked equal to PyTorch's before timing (largest relative "
            f"difference of loss and updated weights {same['worst']:.1e}); coursekit kept its "
            f"parameters in {same['param_dtype']} and its backward pass in {same['grad_dtypes']}"
        )
        grid = grids[dtype] = {}
        for batch in batches:
            for hidden in hiddens:
                timing = in_child(_time_both, batch, hidden, dtype, repeats)
                ck = timing["ours"] | in_child(_peak, "coursekit", batch, hidden, dtype)
                th = timing["peer"] | in_child(_peak, "torch", batch, hidden, dtype)
                ratio = timing["ratio"]
                grid[(batch, hidden)] = {"ck": ck, "th": th, "ratio": ratio}
                print(
                    f"  torch {dtype} batch {batch:5d} hidden {hidden:4d}: "
                    f"coursekit {fmt_time(ck['median']):>9} torch {fmt_time(th['median']):>9} "
                    f"ratio {ratio:5.2f}",
                    flush=True,
                )

    # Table rows: every course-size cell would be too many; show the corners and the worst.
    for dtype, grid in grids.items():
        course = {
            k: v for k, v in grid.items() if k[0] in COURSE_BATCHES and k[1] in COURSE_HIDDENS
        }
        if course:
            worst_key = max(course, key=lambda k: course[k]["ratio"])
            best_key = min(course, key=lambda k: course[k]["ratio"])
            # Measured, not targeted: the layers are written to be read, and the ratio says what
            # that costs (the bare-NumPy rows say how much of it is the layers themselves).
            result.rows.append(
                _row(dtype, worst_key, grid[worst_key], "slowest course size: ", "-", "-")
            )
            result.rows.append(
                _row(dtype, best_key, grid[best_key], "fastest course size: ", "-", "-")
            )
        for key in [(min(batches), min(hiddens)), (max(batches), max(hiddens))]:
            if key in grid and key not in course:
                result.rows.append(_row(dtype, key, grid[key], "", "-", "-"))
        result.rows.append(
            Row(part, f"{dtype} crossover", _crossover(grid, batches, hiddens), target="-", met="-")
        )

    result.details = _details(grids, batches, hiddens)
    if not diagnostics:
        return result
    gemm = []
    for dtype in ("float32", "float64"):
        for batch, hidden in [(128, 64), (max(batches), max(hiddens))]:
            g = in_child(_gemm, batch, hidden, dtype, repeats)
            gemm.append(
                f"| {dtype} | ({batch}, {hidden}) @ ({hidden}, {hidden}) | "
                f"{fmt_time(g['ours']['median'])} | {fmt_time(g['peer']['median'])} | "
                f"{g['ratio']:.2f} |"
            )
    bare = []
    for dtype in ("float32", "float64"):
        for batch, hidden in [(32, 16), (128, 64), (max(batches), max(hiddens))]:
            g = in_child(_against_bare, batch, hidden, dtype, repeats)
            bare.append(
                f"| {dtype} | {batch} | {hidden} | {fmt_time(g['ours']['median'])} "
                f"| {fmt_time(g['peer']['median'])} | {g['ratio']:.2f} | "
                f"{fmt_time(g['ours']['median'] - g['peer']['median'])} |"
            )
    result.details += (
        "\n\n#### coursekit against the same step in bare NumPy\n\n"
        "The step written as a dozen NumPy expressions (no layer objects, no input checks, the "
        "loss and its gradient from one softmax), checked to give the same loss. The difference "
        "is what coursekit's readable, checked layers cost per step.\n\n| dtype | batch | hidden "
        "| coursekit | bare NumPy | ratio | difference |\n|---|---|---|---|---|---|---|\n"
    ) + "\n".join(bare)
    result.details += (
        "\n\n#### The matrix product alone\n\n"
        "The hidden-to-hidden product `X @ W.T` of the forward pass, NumPy (OpenBLAS) against "
        "PyTorch (MKL), one thread each (see the machine table). At large sizes a step is mostly "
        "such products (one in the forward pass, two in the backward pass), so the step ratio "
        "approaches this ratio there.\n\n"
        "| dtype | product | NumPy | PyTorch | ratio |\n|---|---|---|---|---|\n" + "\n".join(gemm)
    )
    slow = [
        (dtype, key) for dtype, grid in grids.items() for key, v in grid.items()
        if key[0] in COURSE_BATCHES and key[1] in COURSE_HIDDENS and v["ratio"] > 1.0
    ]  # fmt: skip
    profile_cases = [("float64", (64, 16))] + (
        [("float32", (64, 16))] if any(d == "float32" for d, _ in slow) else []
    )
    for dtype, (batch, hidden) in profile_cases:
        prof = in_child(_profile_course_size, batch, hidden, dtype)
        result.details += (
            (
                "\n\n#### Where a coursekit step spends its time "
                f"({dtype}, batch {batch}, hidden {hidden})\n\ncProfile over 2000 steps, sorted by "
                "own time (profiling overhead inflates the Python-level share):\n\n```text\n"
            )
            + prof["text"]
            + "\n```\n"
        )
    return result


def _row(dtype: str, key: tuple[int, int], cell: dict, prefix: str, target: str, met: str) -> Row:
    batch, hidden = key
    mem = f"{fmt_mib(cell['ck']['peak_bytes'])} / {fmt_mib(cell['th']['peak_bytes'])}"
    return Row(
        "torch",
        f"{prefix}train step {dtype}, batch {batch}, hidden {hidden}",
        fmt_time(cell["ck"]["median"]),
        fmt_time(cell["th"]["median"]),
        f"{cell['ratio']:.2f}",
        mem,
        target,
        met,
    )


def _crossover(grid: dict, batches: list[int], hiddens: list[int]) -> str:
    """Per batch size, the hidden widths at which coursekit is slower than torch (ratio > 1)."""
    parts = []
    for batch in batches:
        slower = [h for h in hiddens if grid[(batch, h)]["ratio"] > 1.0]
        if not slower:
            parts.append(f"b{batch}: faster at every H")
        elif slower == hiddens[hiddens.index(slower[0]) :]:
            parts.append(f"b{batch}: slower from H={slower[0]}")
        else:
            parts.append(f"b{batch}: slower at H=" + ",".join(map(str, slower)))
    return "; ".join(parts)


def _details(grids: dict, batches: list[int], hiddens: list[int]) -> str:
    out = [
        "### coursekit / torch time ratio of one training step",
        "",
        f"MLP {D_IN} -> H -> H -> {CLASSES}, ReLU, softmax cross-entropy, plain SGD; "
        "one thread each. The two are timed in alternating repeats in one process; "
        "each cell gives the median of the paired ratios coursekit/torch "
        "(below 1: coursekit is faster) and the median times. Peak memory is the rise of the "
        "peak resident set of a fresh child process that runs only that measurement.",
    ]
    for dtype, grid in grids.items():
        out += ["", f"#### {dtype}: ratio (coursekit time, torch time)", ""]
        out.append("| batch \\ hidden | " + " | ".join(str(h) for h in hiddens) + " |")
        out.append("|---|" + "---|" * len(hiddens))
        for batch in batches:
            cells = []
            for h in hiddens:
                c = grid[(batch, h)]
                cells.append(
                    f"**{c['ratio']:.2f}** ({fmt_time(c['ck']['median'])}, "
                    f"{fmt_time(c['th']['median'])})"
                )
            out.append(f"| {batch} | " + " | ".join(cells) + " |")
        out += [
            "",
            f"#### {dtype}: peak memory in MiB, coursekit / torch",
            "",
            "Rise of the peak resident set while building the model and data and taking 6 steps; "
            "in brackets the rise during steps 2-6 alone "
            "(after one-time initialisation such as PyTorch loading its kernels).",
            "",
        ]
        out.append("| batch \\ hidden | " + " | ".join(str(h) for h in hiddens) + " |")
        out.append("|---|" + "---|" * len(hiddens))
        for batch in batches:
            cells = [
                "{:.1f} ({:.1f}) / {:.1f} ({:.1f})".format(
                    grid[(batch, h)]["ck"]["peak_bytes"] / MIB,
                    grid[(batch, h)]["ck"]["step_bytes"] / MIB,
                    grid[(batch, h)]["th"]["peak_bytes"] / MIB,
                    grid[(batch, h)]["th"]["step_bytes"] / MIB,
                )
                for h in hiddens
            ]
            out.append(f"| {batch} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sizes")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        action="append",
        help="only this dtype (repeatable)",
    )
    parser.add_argument(
        "--batch", type=int, action="append", help="only this batch size (repeatable)"
    )
    parser.add_argument(
        "--hidden", type=int, action="append", help="only this width H (repeatable)"
    )
    parser.add_argument("--no-diagnostics", action="store_true", help="stop after the ratio grids")
    args = parser.parse_args()
    result = run(
        quick=args.quick,
        repeats=args.repeats,
        dtypes=tuple(args.dtype or ("float32", "float64")),
        batches=args.batch,
        hiddens=args.hidden,
        diagnostics=not args.no_diagnostics,
    )
    result.print()


if __name__ == "__main__":
    main()
