"""The runner: a notebook in a separate process, with time, output and kernel-death handling."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
import pytest

from coursekit.grading import runner as rn


def notebook(*sources: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def group_alive(pgid: int, wait: float = 5.0) -> bool:
    """True if a live (not zombie) process of group ``pgid`` is still there after ``wait`` s."""
    deadline = time.monotonic() + wait
    while True:
        alive = False
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # the process ended while we looked
            if int(fields[2]) == pgid and fields[0] != "Z":
                alive = True
        if not alive or time.monotonic() > deadline:
            return alive
        time.sleep(0.2)


def kernel_pgid(workdir) -> int:
    import json

    events = [json.loads(line) for line in (workdir / rn.EVENTS_FILE).read_text().splitlines()]
    return next(e["kernel_pgid"] for e in events if e["event"] == "start")


@pytest.mark.slow
def test_answers_are_attributed_to_the_cell_that_recorded_them(tmp_path):
    nb = notebook(
        "from coursekit.checks import check\nimport os, sys",
        "check('a', 1.0, 1.0)\nprint('to stderr', file=sys.stderr)",
        # junk written straight into the record file, then a real record glued to it
        "open(os.environ['COURSEKIT_GRADING_RECORD'], 'a').write('junk\\n{half')\n"
        "check('b', [1, 2], [1, 2])",
        "x = 1 / 0",
        "check('c', True, True)",
    )
    result = rn.run_notebook(nb, tmp_path, rn.RunLimits(timeout=20), record=True)
    assert result.failure is None and result.stopped is None
    assert [c.status for c in result.cells.values()] == [rn.OK, rn.OK, rn.OK, rn.ERROR, rn.OK]
    assert [[r["key"] for r in c.records] for c in result.cells.values()] == [
        [],
        ["a"],
        ["b"],
        [],
        ["c"],
    ]
    assert result.cells[2].junk_lines == 1
    assert result.cells[1].outputs[0]["name"] == "stderr"  # kept, and the cell is still ok


@pytest.mark.slow
def test_working_mode_has_no_record_file_and_sees_the_assignment_files(tmp_path):
    data = tmp_path / "assignment"
    data.mkdir()
    (data / "table.csv").write_text("1,2\n")
    nb = notebook(
        "import os\nprint(open('table.csv').read().strip(), "
        "os.environ.get('COURSEKIT_GRADING_RECORD'))"
    )
    result = rn.run_notebook(
        nb, tmp_path / "run", rn.RunLimits(timeout=20), record=False, files_from=data
    )
    assert result.cells[0].outputs[0]["text"] == "1,2 None\n"


@pytest.mark.slow
def test_a_long_cell_is_interrupted_and_the_next_cell_still_runs(tmp_path):
    nb = notebook("while True:\n    pass", "print('after')")
    result = rn.run_notebook(nb, tmp_path, rn.RunLimits(timeout=2, grace=5), record=True)
    assert result.cells[0].status == rn.TIMEOUT
    assert any(o.get("ename") == rn.TIMEOUT_ENAME for o in result.cells[0].outputs)
    assert result.cells[1].status == rn.OK and result.cells[1].outputs[0]["text"] == "after\n"


@pytest.mark.slow
def test_a_cell_that_ignores_interrupts_gets_its_kernel_killed(tmp_path):
    nb = notebook(
        "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
        "    except KeyboardInterrupt:\n        pass",
        "print('never')",
    )
    start = time.monotonic()
    result = rn.run_notebook(nb, tmp_path, rn.RunLimits(timeout=2, grace=2), record=True)
    assert time.monotonic() - start < 30
    assert result.cells[0].status == rn.TIMEOUT and result.cells[1].status == rn.NOT_RUN
    assert "ignored the interrupt" in result.stopped
    assert not group_alive(kernel_pgid(tmp_path))


@pytest.mark.slow
def test_the_whole_notebook_limit_kills_runner_and_kernel(tmp_path):
    nb = notebook("print('started')", "import time\ntime.sleep(120)", "print('never')")
    start = time.monotonic()
    # 12 s: room for the kernel to start on a loaded machine before the first cell must report
    result = rn.run_notebook(
        nb, tmp_path, rn.RunLimits(timeout=100, notebook_timeout=12), record=True
    )
    assert time.monotonic() - start < 30
    assert "limit of 12 s for a whole notebook" in result.stopped
    assert result.cells[0].status == rn.OK and 1 not in result.cells  # the rest never reported
    assert not group_alive(kernel_pgid(tmp_path))


@pytest.mark.slow
def test_kernel_death_stops_the_run_with_a_reason(tmp_path):
    nb = notebook("print(1)", "import os\nos._exit(3)", "print('never')")
    result = rn.run_notebook(nb, tmp_path, rn.RunLimits(timeout=20), record=True)
    assert [c.status for c in result.cells.values()] == [rn.OK, rn.KERNEL_DIED, rn.NOT_RUN]
    assert "the kernel died while running cell 1" in result.stopped


@pytest.mark.slow
def test_output_is_capped_while_it_arrives(tmp_path):
    nb = notebook(
        "print('x' * 3_000_000)\nfor i in range(5000):\n    print(i)",
        "from IPython.display import HTML\nHTML('<b>' * 100_000)",
    )
    limits = rn.RunLimits(timeout=30, max_output_chars=1000, max_lines=50)
    result = rn.run_notebook(nb, tmp_path, limits, record=True)
    text = "".join(o.get("text", "") for o in result.cells[0].outputs)
    assert len(text) < 1200 and "output truncated" in text
    rich = result.cells[1].outputs[0]["data"]
    assert rich == {"text/plain": "[output removed: over the size limit]"}


def test_the_runner_command_names_the_sandbox_folder_only_when_sandboxed(tmp_path):
    plain = rn.runner_command(tmp_path / "nb.ipynb", tmp_path / "e.jsonl", tmp_path, rn.RunLimits())
    boxed = rn.runner_command(
        tmp_path / "nb.ipynb", tmp_path / "e.jsonl", tmp_path, rn.RunLimits(), tmp_path / "box"
    )
    assert plain[1:3] == ["-m", "coursekit.grading.executor"] and "--sandbox-dir" not in plain
    assert boxed[: len(plain)] == plain and boxed[len(plain) :] == [
        "--sandbox-dir",
        str(tmp_path / "box"),
    ]


@pytest.mark.slow
def test_a_printing_loop_does_not_fill_the_kernels_memory(tmp_path):
    # Without a cap inside the kernel, ipykernel's output buffer and IPython's output history
    # kept every line: the kernel grew by gigabytes and the next cell lost its output.
    nb = notebook(
        "while True:\n    print('x' * 100_000)",
        "import resource\n"
        "print('peak MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)",
    )
    result = rn.run_notebook(nb, tmp_path, rn.RunLimits(timeout=5, grace=2), record=True)
    assert [result.cells[0].status, result.cells[1].status] == [rn.TIMEOUT, rn.OK]
    text = "".join(o.get("text", "") for o in result.cells[0].outputs)
    assert len(text) < 25_000 and "output truncated" in text
    printed = "".join(o.get("text", "") for o in result.cells[1].outputs)
    assert printed.startswith("peak MB"), result.cells[1].outputs
    assert int(printed.split()[-1]) < 500


def test_a_kernel_that_fails_to_start_once_is_started_again(tmp_path, monkeypatch):
    # A kernel that exits at its first start (as a start-up hiccup on a loaded machine does)
    # must not cost the submission its grade: the runner tries once more.
    import json
    import sys

    flag = tmp_path / "failed-once"
    spec_dir = tmp_path / "jupyter" / "kernels" / "flaky"
    spec_dir.mkdir(parents=True)
    launcher = spec_dir / "launch.sh"
    launcher.write_text(
        f'#!/bin/sh\nif [ ! -e "{flag}" ]; then touch "{flag}"; exit 1; fi\n'
        f'exec "{sys.executable}" -m ipykernel_launcher "$@"\n'
    )
    launcher.chmod(0o755)
    spec = {
        "argv": [str(launcher), "-f", "{connection_file}"],
        "display_name": "flaky",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    result = rn.run_notebook(
        notebook("print(6 * 7)"), tmp_path / "run", rn.RunLimits(kernel_name="flaky"), record=False
    )
    assert flag.exists() and result.failure is None
    assert result.cells[0].status == rn.OK and result.cells[0].outputs[0]["text"] == "42\n"


def test_a_kernel_that_never_starts_is_reported_with_the_reason(tmp_path):
    result = rn.run_notebook(
        notebook("print(1)"), tmp_path, rn.RunLimits(kernel_name="no-such-kernel"), record=False
    )
    assert result.failure is not None and result.failure.startswith(rn.KERNEL_NOT_STARTED)
    assert "no-such-kernel" in result.failure and result.cells == {}
