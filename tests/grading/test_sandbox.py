"""The grading sandbox: student code cannot read answers, touch grades or reach the network.

The attack corpus (attack_corpus.py) is graded as one batch with ``--jobs 2``, a correct
submission among the attacks. Every attack must fail, every submission must get its expected
grade, and nothing outside the sandbox may change. The remaining tests check the pieces: the
refusal to grade without a sandbox, the limits read from the course config, the command that
builds the sandbox, and that a sandboxed kernel leaves no process behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from attack_corpus import (
    ASSIGNMENT,
    CELL_TIMEOUT,
    FULL,
    PRELUDE,
    SECRET_ENV,
    Context,
    attack_lines,
    attacks,
    make_course,
    release,
    write_submission,
)
from grading_corpus import COURSEKIT, REPO, built_once, read_csv

from coursekit.grading import runner as rn
from coursekit.grading import sandbox
from coursekit.grading.course import Course, CourseError


def _digest(paths: list[Path]) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in paths if p.is_file()}


def _protected(course: Path) -> list[Path]:
    """Files no submission may change: every submission, the source, the course library and
    the interpreter's NumPy. (The reference answers are not listed: the grader itself rewrites
    them whenever the course library changes.)"""
    import numpy

    import coursekit.checks

    files = [p for folder in ("submitted", "source") for p in (course / folder).rglob("*")]
    return sorted(files + [Path(numpy.__file__), Path(coursekit.checks.__file__)])


class Listener:
    """A TCP listener on the grader's loopback that counts the connections it gets."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _grade_attacks(root: Path) -> dict:
    listener = Listener()
    home = root / "home"
    home.mkdir()
    (home / "secret.txt").write_text("the instructor's own notes\n")
    course = make_course(root)
    release(course)
    ctx = Context(course=course, port=listener.port, secret_file=home / "secret.txt")
    corpus = attacks(ctx)
    for attack in corpus:
        write_submission(course, attack)
    before = _digest(_protected(course))
    env = dict(os.environ, HOME=str(home), **{SECRET_ENV: "grader-only-token"})
    start = time.monotonic()
    try:
        done = subprocess.run(
            [*COURSEKIT, "grade", ASSIGNMENT, "--course-dir", str(course),
             "--jobs", "2", "--timeout", CELL_TIMEOUT],
            capture_output=True, text=True, timeout=600, env=env, cwd=str(REPO),
        )  # fmt: skip
    finally:
        listener.close()
    seconds = time.monotonic() - start
    rows = read_csv(course, ASSIGNMENT)
    reports = {
        a.student: json.loads((course / "grades" / ASSIGNMENT / f"{a.student}.json").read_text())
        for a in corpus
    }
    lines = {a.student: attack_lines(course, a.student) for a in corpus}
    after = _digest(_protected(course))
    # The same correct submission graded without the sandbox, for comparison.
    plain = subprocess.run(
        [*COURSEKIT, "grade", ASSIGNMENT, "--course-dir", str(course),
         "--student", "correct", "--no-sandbox", "--quiet"],
        capture_output=True, text=True, timeout=300, cwd=str(REPO),
    )  # fmt: skip
    return {
        "course": str(course),
        "returncode": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr[-5000:],
        "seconds": seconds,
        "rows": rows,
        "reports": reports,
        "lines": lines,
        "changed": sorted(path for path in before if before[path] != after.get(path)),
        "connections": listener.connections,
        "plain": {
            "returncode": plain.returncode,
            "stderr": plain.stderr[-3000:],
            "row": read_csv(course, ASSIGNMENT)["correct"],
        },
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """The attack batch, graded once per test session even across pytest-xdist workers."""
    return built_once(tmp_path_factory, "sandbox-attacks", _grade_attacks)[1]


CORPUS = attacks(Context(course=Path("/course"), port=0, secret_file=Path("/secret")))


# --------------------------------------------------------------------------------------------
# The attack batch
# --------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("attack", CORPUS, ids=[a.student for a in CORPUS])
def test_every_attack_fails_and_every_submission_gets_its_grade(graded, attack):
    row = graded["rows"][attack.student]
    assert (row["auto_score"], row["status"]) == (f"{attack.score:g}", attack.status), (
        row,
        graded["stderr"],
    )
    if attack.reason:
        assert attack.reason in row["reason"], row
    else:
        assert row["reason"] == "", row
    lines = graded["lines"][attack.student]
    assert sorted(lines) == sorted(attack.probes), lines
    succeeded = {name: text for name, text in lines.items() if not text.startswith("blocked")}
    assert not succeeded, succeeded


@pytest.mark.slow
def test_the_batch_reports_the_tampering_it_saw(graded):
    # Rebinding check() is seen by the lint and when the tests run; replacing it or NumPy at
    # run time is seen when the tests run.
    assert graded["returncode"] == 1, graded["stderr"]
    assert (
        "3 submission(s) need attention: patch_numpy, tamper_check_plain, tamper_check_runtime"
        in graded["stderr"]
    )


@pytest.mark.slow
def test_nothing_outside_the_sandbox_changed(graded):
    assert graded["changed"] == []
    assert graded["connections"] == 0  # the loopback listener never saw the kernel


@pytest.mark.slow
def test_network_is_unreachable_at_once(graded):
    text = graded["lines"]["network"]["connect-internet"]
    assert "Network is unreachable" in text, text
    seconds = float(text.rsplit("after ", 1)[1].split(" s")[0])
    assert seconds < 1.0  # refused by the empty network namespace, not a timeout
    assert "Connection refused" in graded["lines"]["network"]["connect-grader-loopback"]


@pytest.mark.slow
def test_resource_limits_stop_forks_memory_and_files(graded):
    limits = Course.open(graded["course"]).sandbox_limits()
    fork = graded["lines"]["fork_bomb"]["fork-bomb"]
    refused_at = int(fork.split("fork number ")[1].split(" ")[0])
    assert refused_at <= limits.max_processes and "Resource temporarily unavailable" in fork, fork
    assert "MemoryError" in graded["lines"]["memory"]["allocate-8-GiB-array"]
    assert "MemoryError" in graded["lines"]["memory"]["allocate-3-GiB-zeros"]
    assert "File too large" in graded["lines"]["disk"]["write-1-GiB-file"]
    assert "No space left on device" in graded["lines"]["disk"]["fill-tmp"]


@pytest.mark.slow
def test_no_place_the_kernel_can_write_takes_unlimited_files(graded):
    limits = Course.open(graded["course"]).sandbox_limits()
    lines = graded["lines"]["inodes"]
    # /tmp (the home and working folder): full after at most tmp_inodes entries of any kind.
    for probe in ("inodes-working-folder", "inodes-tmp-folders-and-links", "inodes-home-kept"):
        text = lines[probe]
        assert "No space left on device" in text, (probe, text)
        made = int(text.split("OSError: [Errno 28] ")[1].split(" ")[0])
        assert limits.tmp_inodes - 100 <= made < limits.tmp_inodes, (probe, text)
    # /dev/shm (semaphores, shared memory): full after at most shm_inodes files.
    text = lines["inodes-dev-shm"]
    made = int(text.split("OSError: [Errno 28] ")[1].split(" ")[0])
    assert "No space left on device" in text and limits.shm_inodes - 10 <= made < limits.shm_inodes
    # The socket folder (locked before any student code runs) and the root folder.
    for probe in ("inodes-socket-folder", "inodes-filesystem-root"):
        text = lines[probe]
        assert "0 files made, then" in text and "Read-only file system" in text, (probe, text)
    # With /tmp left full, the rest of the notebook was graded as usual.
    assert graded["rows"]["inodes"]["auto_score"] == f"{FULL:g}"


@pytest.mark.slow
def test_endless_cells_are_cut_off_and_their_output_capped(graded):
    course = Path(graded["course"])
    for student in ("stdout_flood", "sleep_forever"):
        cells = graded["reports"][student]["notebooks"][0]
        assert cells["seconds"] < 60, cells
    nb = nbformat.read(
        str(course / "autograded" / "stdout_flood" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"),
        as_version=4,
    )
    answer = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "square")
    text = "".join(o.get("text", "") for o in answer.outputs)
    assert len(text) < 25_000 and "output truncated" in text
    assert any(o.get("ename") == rn.TIMEOUT_ENAME for o in answer.outputs)


@pytest.mark.slow
def test_a_correct_submission_gets_the_same_grade_with_or_without_the_sandbox(graded):
    assert graded["rows"]["correct"]["auto_score"] == f"{FULL:g}"
    plain = graded["plain"]
    assert plain["returncode"] == 0, plain["stderr"]
    assert "grading without the sandbox" in plain["stderr"]
    assert plain["row"]["auto_score"] == f"{FULL:g}" and plain["row"]["reason"] == ""


# --------------------------------------------------------------------------------------------
# No sandbox, no grading
# --------------------------------------------------------------------------------------------


def test_grading_refuses_without_bubblewrap_and_says_what_to_install(tmp_path):
    course = make_course(tmp_path)
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))  # no bwrap on it
    done = subprocess.run(
        [*COURSEKIT, "grade", ASSIGNMENT, "--course-dir", str(course)],
        capture_output=True, text=True, timeout=120, env=env, cwd=str(REPO),
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert (
        "bwrap" in done.stderr
        and "apt-get install bubblewrap" in done.stderr
        and "--no-sandbox" in done.stderr
    )


def test_the_reason_names_the_missing_command(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    sandbox.unavailable_reason.cache_clear()
    try:
        reason = sandbox.unavailable_reason()
        assert reason is not None and "bwrap" in reason
        with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap"):
            sandbox.require_sandbox()
    finally:
        sandbox.unavailable_reason.cache_clear()


def test_this_machine_can_make_the_sandbox():
    # make test installs bubblewrap (Makefile sysdeps); everything above depends on it.
    assert sandbox.unavailable_reason() is None


def test_an_unprivileged_grader_gets_a_user_namespace_without_nested_ones():
    # The options used when the grader is not root, tried as "nobody".
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    options = sandbox._namespace_options(as_root=False)
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
         "bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", *options,
         "--", "sh", "-c", "id -u; unshare -U true"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    lines = done.stdout.split()
    assert lines[0] == str(sandbox.NOBODY), (done.stdout, done.stderr)
    assert done.returncode != 0 and "unshare failed" in done.stderr  # no nested user namespace


# --------------------------------------------------------------------------------------------
# Limits and the command
# --------------------------------------------------------------------------------------------


def _course_with(tmp_path: Path, settings: str) -> Course:
    root = tmp_path / "course"
    root.mkdir()
    (root / "nbgrader_config.py").write_text("c = get_config()\n" + settings)
    return Course.open(root)


def test_limits_come_from_the_course_config(tmp_path):
    course = _course_with(
        tmp_path,
        "c.CoursekitGrading.notebook_timeout = 100\n"
        "c.CoursekitGrading.memory_limit_mb = 1024\nc.CoursekitGrading.max_processes = 40\n",
    )
    limits = course.sandbox_limits()
    assert (limits.memory_mb, limits.max_processes) == (1024, 40)
    assert limits.cpu_seconds == 160  # the notebook limit plus a minute
    assert limits.max_file_mb == sandbox.SandboxLimits().max_file_mb


@pytest.mark.parametrize("value", ["0", "-5", "'lots'", "1.5"])
def test_a_bad_limit_is_a_clear_error(tmp_path, value):
    course = _course_with(tmp_path, f"c.CoursekitGrading.memory_limit_mb = {value}\n")
    with pytest.raises(CourseError, match="memory_mb must be a positive whole number"):
        course.sandbox_limits()


_PRINT_COMMAND = """import json, sys
from coursekit.grading import sandbox
spec = sandbox.SandboxSpec.load(sys.argv[1])
spec.enter()
print(json.dumps(spec.command(sys.argv[2:])))
"""


def _command_of(root: Path, argv: list[str]) -> list[str]:
    """The sandbox command as the runner builds it, after entering its own mounts."""
    done = subprocess.run(
        [sys.executable, "-c", _PRINT_COMMAND, str(root), *argv],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_command_isolates_the_kernel(tmp_path):
    files = tmp_path / "run" / "work"
    files.mkdir(parents=True)
    record = tmp_path / "run" / "answers.jsonl"
    root = sandbox.prepare(
        tmp_path, files, record, sandbox.SandboxLimits(), {"OMP_NUM_THREADS": "1", "SECRET": "x"}
    )
    spec = sandbox.SandboxSpec.load(root)
    cmd = _command_of(root, ["python", "-m", "ipykernel_launcher", "-f", "conn.json"])
    assert cmd[0] == "bwrap" and cmd[-5:] == [
        "python",
        "-m",
        "ipykernel_launcher",
        "-f",
        "conn.json",
    ]
    for option in (
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
    ):
        assert option in cmd
    pairs = {(cmd[i], cmd[i + 1], cmd[i + 2]) for i in range(len(cmd) - 2)}
    assert ("--bind", str(record), sandbox.INNER_RECORD) in pairs
    assert ("--ro-bind", str(files), sandbox.INNER_FILES) in pairs
    assert ("--bind", str(spec.kernel_dir), str(spec.kernel_dir)) in pairs
    for path in sandbox.python_paths():
        assert ("--ro-bind", str(path), str(path)) in pairs
    # Read-write binds: the record, the socket folder, /tmp and /dev/shm, nothing else; the
    # last three are the limited tmpfs the runner mounts, and bwrap's own tmpfs end up read-only.
    assert sorted(cmd[i + 1] for i, word in enumerate(cmd) if word == "--bind") == sorted(
        [str(record), str(spec.kernel_dir), str(spec.tmp_dir), str(spec.shm_dir)]
    )
    assert ("--bind", str(spec.tmp_dir), "/tmp") in pairs
    assert ("--bind", str(spec.shm_dir), "/dev/shm") in pairs
    # bwrap's tmpfs have no inode limit: the only one left is the package folder, read-only.
    assert [cmd[i + 1] for i, word in enumerate(cmd) if word == "--tmpfs"] == [spec.package]
    read_only = [cmd[i + 1] for i, word in enumerate(cmd) if word == "--remount-ro"]
    assert {"/", "/dev", spec.package} <= set(read_only)
    # The repository itself is not visible, only the environment and of the package the
    # modules a kernel may import: no reference implementation.
    assert not any(
        cmd[i + 1] == str(REPO) for i, word in enumerate(cmd) if word in ("--bind", "--ro-bind")
    )
    package_files = {
        Path(cmd[i + 1]).name
        for i, word in enumerate(cmd)
        if word == "--ro-bind" and cmd[i + 1].startswith(spec.package)
    }
    assert {"checks.py", "kernel_harness.py", "kernel_output.py"} <= package_files
    assert not package_files & {
        "activations.py",
        "losses.py",
        "gradcheck.py",
        "nn.py",
        "runner.py",
        "sandbox.py",
    }
    assert ("--tmpfs", spec.package) in {(cmd[i], cmd[i + 1]) for i in range(len(cmd) - 1)}
    env = {cmd[i + 1]: cmd[i + 2] for i, word in enumerate(cmd) if word == "--setenv"}
    assert "SECRET" not in env and env["OMP_NUM_THREADS"] == "1"
    assert env["COURSEKIT_GRADING_RECORD"] == sandbox.INNER_RECORD
    limits = sandbox.SandboxLimits()
    assert (
        f"--as={limits.memory_mb * 1024 * 1024}" in cmd and f"--nproc={limits.max_processes}" in cmd
    )
    if os.geteuid() == 0:
        low, high = sandbox.UID_RANGE
        assert (
            low <= spec.uid < high and f"--reuid={spec.uid}" in cmd and "--bounding-set=-all" in cmd
        )


def test_the_command_needs_the_limited_file_systems(tmp_path):
    files = tmp_path / "files"
    files.mkdir()
    spec = sandbox.SandboxSpec.load(
        sandbox.prepare(tmp_path, files, None, sandbox.SandboxLimits(), {})
    )
    # This process never called enter(): /tmp would be a plain host folder, so no command.
    with pytest.raises(sandbox.SandboxUnavailable, match="is not a mount point"):
        spec.command(["true"])


def test_the_inode_limit_is_a_setting(tmp_path):
    assert sandbox.SandboxLimits().tmp_inodes == 10_000
    course = _course_with(tmp_path, "c.CoursekitGrading.tmp_inodes = 2500\n")
    assert course.sandbox_limits().tmp_inodes == 2500
    (tmp_path / "bad").mkdir()
    bad = _course_with(tmp_path / "bad", "c.CoursekitGrading.tmp_inodes = 0\n")
    with pytest.raises(CourseError, match="tmp_inodes must be a positive whole number"):
        bad.sandbox_limits()


def test_the_shm_limits_are_settings(tmp_path):
    course = _course_with(
        tmp_path, "c.CoursekitGrading.shm_size_mb = 8\nc.CoursekitGrading.shm_inodes = 50\n"
    )
    limits = course.sandbox_limits()
    assert (limits.shm_mb, limits.shm_inodes) == (8, 50)
    assert sandbox.SandboxLimits().shm_mb == 32


def test_an_environment_under_tmp_stays_visible_inside(tmp_path):
    # A clean clone under /tmp (as on a CI machine) puts the virtual environment and the
    # editable coursekit below the sandbox's private /tmp; they must not be hidden by it.
    env_dir = Path(tempfile.mkdtemp(prefix="ck-env-", dir=tempfile.gettempdir()))
    try:
        (env_dir / "marker.txt").write_text("visible")
        os.chmod(env_dir, 0o755)
        os.chmod(env_dir / "marker.txt", 0o644)
        files = tmp_path / "files"
        files.mkdir()
        spec = sandbox.SandboxSpec.load(
            sandbox.prepare(tmp_path, files, None, sandbox.SandboxLimits(), {})
        )
        spec.python.append(str(env_dir))
        spec.save()
        done = subprocess.run(
            [sys.executable, "-m", "coursekit.grading.sandbox", spec.root, "--",
             "cat", str(env_dir / "marker.txt")],
            capture_output=True, text=True, timeout=30,
        )  # fmt: skip
        assert (done.returncode, done.stdout) == (0, "visible"), done.stderr
    finally:
        shutil.rmtree(env_dir, ignore_errors=True)


def test_a_sandboxed_kernel_does_not_scan_the_fonts_again(tmp_path):
    # Its home is a fresh tmpfs: without the font list built once per process, every
    # submission's first import of matplotlib.pyplot scanned the system's fonts (seconds of CPU
    # time on a loaded machine).
    assert sandbox.matplotlib_cache() is sandbox.matplotlib_cache()  # built once
    files = tmp_path / "files"
    files.mkdir()
    root = sandbox.prepare(tmp_path, files, None, sandbox.SandboxLimits(), {})
    assert sandbox.SandboxSpec.load(root).matplotlib_cache == sandbox.matplotlib_cache()
    probe = (
        "import logging, os; logging.basicConfig(level=logging.INFO)\n"
        "import matplotlib, matplotlib.font_manager\n"
        "print(matplotlib.get_cachedir(), os.access(matplotlib.get_cachedir(), os.W_OK))\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "coursekit.grading.sandbox", str(root), "--",
         sys.executable, "-c", probe],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, MPLBACKEND="Agg"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "generated new fontManager" not in done.stderr, done.stderr
    assert done.stdout.split() == [sandbox.KERNEL_MPL_CACHE, "True"]


def test_every_run_gets_its_own_user(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("user ids are drawn only when the grader runs as root")
    files = tmp_path / "files"
    files.mkdir()
    uids = {
        sandbox.SandboxSpec.load(
            sandbox.prepare(tmp_path, files, None, sandbox.SandboxLimits(), {})
        ).uid
        for _ in range(20)
    }
    assert len(uids) == 20  # the process limit is counted per user: never shared between kernels


# --------------------------------------------------------------------------------------------
# A sandboxed run leaves nothing behind
# --------------------------------------------------------------------------------------------


def _processes_with(marker: str) -> list[int]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_a_kernel_that_ignores_interrupts_is_stopped_with_everything_it_started(tmp_path):
    marker = f"987.{os.getpid()}"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(
            f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'], start_new_session=True)"
        ),
        nbformat.v4.new_code_cell(
            "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
            "    except KeyboardInterrupt:\n        pass"
        ),
        nbformat.v4.new_code_cell("print('never')"),
    ])  # fmt: skip
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    limits = rn.RunLimits(timeout=3, grace=2, sandbox=sandbox.SandboxLimits())
    result = rn.run_notebook(nb, tmp_path / "run", limits, record=True)
    assert [c.status for c in result.cells.values()] == [rn.OK, rn.TIMEOUT, rn.NOT_RUN]
    assert "ignored the interrupt" in result.stopped
    deadline = time.monotonic() + 5
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []  # its own session did not let it outlive the sandbox
    folders = _sandbox_dirs(tmp_path / "run")
    assert folders and not any(Path(folder).exists() for folder in folders)  # removed after the run


def _sandbox_dirs(workdir: Path) -> list[str]:
    log = (workdir / "runner.log").read_text(errors="replace")
    return sorted(
        {word.rsplit("/kernel/", 1)[0] for word in log.split() if "/kernel/connection.json" in word}
    )


# --------------------------------------------------------------------------------------------
# Files: as root and as an ordinary user, no writable place without a limit
# --------------------------------------------------------------------------------------------

_RUN_PROBE = """import json, sys
from pathlib import Path
import nbformat
from coursekit.grading import runner as rn
from coursekit.grading import sandbox
nb = nbformat.read(sys.argv[1], as_version=4)
limits = rn.RunLimits(timeout=20, sandbox=sandbox.SandboxLimits(tmp_inodes=int(sys.argv[3])))
result = rn.run_notebook(nb, Path(sys.argv[2]), limits, record=True)
print(json.dumps({"failure": result.failure,
                  "cells": [[c.status, c.outputs] for c in result.cells.values()]}))
"""


def _visible_python_as_nobody(stash: Path) -> list[str]:
    """Shell commands (run as root in a private mount namespace) that let "nobody" run this
    interpreter when a folder above it is closed to others (a Python under /root); ``stash``
    is an empty folder they may mount on."""
    base = Path(os.path.realpath(sys.base_prefix))
    closed = next(
        (p for p in [*reversed(base.parents), base] if not os.stat(p).st_mode & 0o001), None
    )
    if closed is None:
        return []
    stash.mkdir(exist_ok=True)
    return [
        f"mount --bind {base} {stash}",
        f"mount -t tmpfs -o mode=0755 tmpfs {closed}",
        f"mkdir -p {base}",
        f"mount --bind {stash} {base}",
    ]


def _as_nobody(command: list[str], scratch: Path) -> list[str]:
    """``command`` run by root as the user "nobody", with this interpreter visible to it."""
    steps = [
        *_visible_python_as_nobody(scratch / "python"),
        'exec setpriv --reuid=65534 --regid=65534 --clear-groups "$@"',
    ]
    return [
        "unshare", "--mount", "--propagation", "private",
        "sh", "-c", " && ".join(steps), "sh", *command,
    ]  # fmt: skip


def _run_in_sandbox(cells: list[str], as_nobody: bool, inodes: int) -> tuple[dict, Path]:
    """Run ``cells`` in a sandboxed kernel through the runner, as this user or as "nobody"."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    scratch = Path(tempfile.mkdtemp(prefix="ck-probe-"))
    os.chmod(scratch, 0o777)
    nbformat.write(nb, str(scratch / "probe.ipynb"))
    env = dict(os.environ, HOME=str(scratch), TMPDIR=str(scratch))
    command = [
        sys.executable, "-c", _RUN_PROBE,
        str(scratch / "probe.ipynb"), str(scratch / "run"), str(inodes),
    ]  # fmt: skip
    if as_nobody:
        command = _as_nobody(command, scratch)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, env=env, cwd=str(REPO)
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), scratch


@pytest.mark.slow
@pytest.mark.parametrize("as_nobody", [False, True], ids=["grader-as-is", "grader-as-nobody"])
def test_every_writable_place_is_limited_in_files(as_nobody):
    if as_nobody and os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    inodes = 3000
    attack = next(a for a in CORPUS if a.student == "inodes")
    run, scratch = _run_in_sandbox(
        [PRELUDE + attack.code, "print('still running')"], as_nobody, inodes
    )
    try:
        assert run["failure"] is None, run
        (status, outputs), (after_status, after) = run["cells"]
        assert (status, after_status) == (rn.OK, rn.OK), run
        lines = {
            line.split(": ", 1)[0]: line.split(": ", 1)[1]
            for out in outputs
            for line in out.get("text", "").splitlines()
            if line.startswith("ATTACK ")
        }
        assert len(lines) == 6 and all(v.startswith("blocked") for v in lines.values()), lines
        for probe in ("working-folder", "tmp-folders-and-links", "home-kept"):
            text = lines[f"ATTACK inodes-{probe}"]
            made = int(text.split("[Errno 28] ")[1].split(" ")[0])
            assert inodes - 100 <= made < inodes, text  # "No space left on device"
        shm_inodes = sandbox.SandboxLimits().shm_inodes
        text = lines["ATTACK inodes-dev-shm"]
        made = int(text.split("[Errno 28] ")[1].split(" ")[0])
        assert shm_inodes - 10 <= made < shm_inodes, text
        for probe in ("socket-folder", "filesystem-root"):
            text = lines[f"ATTACK inodes-{probe}"]
            assert "0 files made" in text and "Read-only file system" in text, text
        assert "still running" in after[0]["text"]
        # Nothing reached the host: the run's folders hold only what the grader wrote.
        host_files = [p for p in scratch.rglob("*") if "empty" in p.name or "entry" in p.name]
        assert host_files == []
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@pytest.mark.slow
def test_the_socket_folder_cannot_be_reopened_by_an_ordinary_grader():
    # Without root the kernel's user is the grader's own and "owns" the socket folder; once
    # locked, the folder's file system is read-only, so changing its mode fails too.
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    probe = (
        PRELUDE
        + "import ipykernel\n_k = os.path.dirname(ipykernel.get_connection_file())\n"
        + '_attempt("chmod", lambda: os.chmod(_k, 0o755))\n'
        + '_attempt("create", lambda: open(os.path.join(_k, "x"), "x").close())\n'
        + '_attempt("connection-file",'
        + ' lambda: open(ipykernel.get_connection_file(), "a").close())\n'
    )
    run, scratch = _run_in_sandbox([probe], as_nobody=True, inodes=100)
    try:
        text = "".join(o.get("text", "") for o in run["cells"][0][1])
        for name in ("chmod", "create", "connection-file"):
            blocked = f"ATTACK {name}: blocked (OSError: [Errno 30] Read-only file system"
            assert blocked in text, text
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


# --------------------------------------------------------------------------------------------
# multiprocessing: a private /dev/shm, limited like /tmp
# --------------------------------------------------------------------------------------------

_MULTIPROCESSING = """import multiprocessing
from multiprocessing import shared_memory

lock = multiprocessing.Lock()
with lock:
    print("lock taken")


def cube(x):
    return x**3


with multiprocessing.Pool(1) as pool:
    print("pool:", pool.map(cube, [1, 2, 3]))
block = shared_memory.SharedMemory(create=True, size=4096)
block.buf[:3] = b"abc"
print("shared memory:", bytes(block.buf[:3]))
block.close()
block.unlink()
"""

_FILL_SHM = """import os

written = 0
try:
    for i in range(16):  # 16 x 8 MiB, more than the limit
        with open(f"/dev/shm/fill{i}", "wb") as fh:
            fh.write(b"x" * 2**23)
        written += 1
except OSError as exc:
    print(f"stopped after {written} files: {exc}")
finally:
    for name in os.listdir("/dev/shm"):
        os.remove(os.path.join("/dev/shm", name))
print("left:", os.listdir("/dev/shm"))
"""


@pytest.mark.slow
def test_multiprocessing_works_in_the_sandbox_within_its_limits():
    """A lock, a pool of one worker and a shared-memory block work; filling /dev/shm stops at
    its size with "No space left on device", and the notebook goes on."""
    run, scratch = _run_in_sandbox([_MULTIPROCESSING, _FILL_SHM], as_nobody=False, inodes=10_000)
    try:
        assert run["failure"] is None, run
        (status, outputs), (fill_status, fill) = run["cells"]
        assert (status, fill_status) == (rn.OK, rn.OK), run
        text = "".join(o.get("text", "") for o in outputs)
        assert "lock taken\npool: [1, 8, 27]\nshared memory: b'abc'\n" == text, outputs
        text = "".join(o.get("text", "") for o in fill)
        assert "No space left on device" in text, text
        written = int(text.split("stopped after ")[1].split(" ")[0])
        fit = sandbox.SandboxLimits().shm_mb // 8  # files of 8 MiB that fit (the last one may not)
        assert fit - 1 <= written <= fit, text
        assert "left: []" in text
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
