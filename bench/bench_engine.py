"""The scalar engine coursekit.engine.Value against micrograd's Value on the same expressions.

Two graphs, each written once and built with either engine's ``Value`` class (only ``+``,
``-``, ``*``, ``**`` and ``relu``, which both engines have):

* **MLP**: a 2 -> 8 -> 8 -> 1 ReLU network made of scalars, evaluated on a batch of 16 points,
  with the mean squared error as output: forward (build the graph) + backward.
* **chain**: ``v = relu(a * v + b)`` repeated 1000 times (3000 operations in a line).

The graph is rebuilt for every forward + backward, as in a training loop. micrograd's
``backward`` accumulates into ``grad``, so its leaves are zeroed first (as its own training
loop does); coursekit's ``backward`` zeroes the graph itself. Before timing, both engines'
outputs and every leaf gradient are compared. micrograd's topological sort is recursive; the
recursion limit is raised for the chain (coursekit's is iterative).

    python bench/bench_engine.py
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import single_threaded_env

single_threaded_env()

import argparse  # noqa: E402
import random  # noqa: E402

from _common import PartResult, Row, fmt_mib, fmt_time, in_child, skipped, time_pair  # noqa: E402

SIZES = [2, 8, 8, 1]
POINTS = 16
CHAIN = 1000


def _mlp_numbers(seed: int = 0):
    rng = random.Random(seed)
    layers = []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        W = [[rng.uniform(-1, 1) for _ in range(fan_in)] for _ in range(fan_out)]
        b = [rng.uniform(-0.1, 0.1) for _ in range(fan_out)]
        layers.append((W, b))
    X = [[rng.uniform(-2, 2) for _ in range(SIZES[0])] for _ in range(POINTS)]
    y = [rng.uniform(-1, 1) for _ in range(POINTS)]
    return layers, X, y


def make_mlp(Value):
    """Leaves (weights as Values) and a function building loss = mean squared error."""
    numbers, X, y = _mlp_numbers()
    params = []
    layers = []
    for W, b in numbers:
        Wv = [[Value(w) for w in row] for row in W]
        bv = [Value(c) for c in b]
        layers.append((Wv, bv))
        params += [w for row in Wv for w in row] + bv

    def loss():
        total = None
        for xi, yi in zip(X, y):
            h = xi
            for k, (Wv, bv) in enumerate(layers):
                out = []
                for row, bj in zip(Wv, bv):
                    act = bj
                    for w, x in zip(row, h):
                        act = act + w * x
                    out.append(act.relu() if k < len(layers) - 1 else act)
                h = out
            err = (h[0] - yi) ** 2
            total = err if total is None else total + err
        return total * (1.0 / len(X))

    return params, loss


def make_chain(Value):
    a, b, x = Value(0.999), Value(0.01), Value(0.5)
    params = [a, b, x]

    def out():
        v = x
        for _ in range(CHAIN):
            v = (a * v + b).relu()
        return v

    return params, out


GRAPHS = {"mlp": make_mlp, "chain": make_chain}


def _classes():
    from micrograd.engine import Value as MicroValue

    from coursekit.engine import Value as CourseValue

    return CourseValue, MicroValue


def _fwd_bwd(params, build, zero: bool):
    def step():
        if zero:
            for p in params:
                p.grad = 0
        out = build()
        out.backward()
        return out

    return step


def _count_nodes(root) -> int:
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        todo.extend(getattr(node, "parents", None) or getattr(node, "_prev", ()))
    return len(seen)


def _check(graph: str) -> dict:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))
    CourseValue, MicroValue = _classes()
    ck_params, ck_build = GRAPHS[graph](CourseValue)
    mg_params, mg_build = GRAPHS[graph](MicroValue)
    ck_out = _fwd_bwd(ck_params, ck_build, False)()
    mg_out = _fwd_bwd(mg_params, mg_build, True)()
    worst = abs(ck_out.data - mg_out.data) / max(abs(mg_out.data), 1e-300)
    for p, q in zip(ck_params, mg_params):
        worst = max(worst, abs(p.grad - q.grad) / max(abs(q.grad), 1e-12))
    if not worst < 1e-9:
        raise AssertionError(f"{graph}: coursekit and micrograd disagree (relative {worst:.2e})")
    return {"worst": worst, "ck_nodes": _count_nodes(ck_out), "mg_nodes": _count_nodes(mg_out)}


def _time(graph: str, repeats: int) -> dict:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))
    CourseValue, MicroValue = _classes()
    ck = _fwd_bwd(*GRAPHS[graph](CourseValue), False)
    mg = _fwd_bwd(*GRAPHS[graph](MicroValue), True)
    return time_pair(ck, mg, repeats=repeats, min_time=0.1)


def _peak(graph: str, engine: str) -> dict:
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 50_000))
    CourseValue, MicroValue = _classes()
    Value = CourseValue if engine == "coursekit" else MicroValue
    step = _fwd_bwd(*GRAPHS[graph](Value), engine != "coursekit")
    for _ in range(3):
        step()
    return {}


def run(quick: bool = False, repeats: int = 9) -> PartResult:
    part = "engine"
    try:
        from coursekit.engine import Value
    except ImportError as exc:
        return skipped(part, f"coursekit.engine.Value not present ({exc})")
    missing = [
        name
        for name in ("__add__", "__mul__", "__pow__", "__sub__", "relu", "backward")
        if not hasattr(Value, name)
    ]
    if missing:
        return skipped(part, f"coursekit.engine.Value lacks {', '.join(missing)} so far")
    try:
        import micrograd.engine  # noqa: F401
    except ImportError:
        return skipped(
            part, "micrograd is not installed (make bench installs bench/requirements.txt)"
        )
    result = PartResult(part)
    labels = {
        "mlp": f"scalar MLP {'-'.join(map(str, SIZES))} on {POINTS} points, forward+backward",
        "chain": f"chain relu(a*v+b) x{CHAIN}, forward+backward",
    }
    for graph in GRAPHS:
        same = in_child(_check, graph)
        timing = in_child(_time, graph, repeats)
        ck_mem = in_child(_peak, graph, "coursekit")["peak_bytes"]
        mg_mem = in_child(_peak, graph, "micrograd")["peak_bytes"]
        ratio = timing["ratio"]
        result.rows.append(
            Row(
                part,
                labels[graph],
                fmt_time(timing["ours"]["median"]),
                fmt_time(timing["peer"]["median"]) + " (micrograd)",
                f"{ratio:.2f}",
                f"{fmt_mib(ck_mem)} / {fmt_mib(mg_mem)}",
                "-",  # measured, not targeted: the engine is written to be read
                "-",
            )
        )
        result.notes.append(
            f"engine {graph}: same output and leaf gradients as micrograd "
            f"(largest relative difference {same['worst']:.1e}); graph nodes: "
            f"coursekit {same['ck_nodes']}, micrograd {same['mg_nodes']}"
        )
        print(
            f"  engine {graph}: coursekit {fmt_time(timing['ours']['median'])} micrograd "
            f"{fmt_time(timing['peer']['median'])} ratio {ratio:.2f}",
            flush=True,
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    result = run(quick=args.quick, repeats=args.repeats)
    result.print()


if __name__ == "__main__":
    main()
