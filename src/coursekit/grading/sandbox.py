"""An operating-system sandbox for the kernel that runs a student's notebook.

The grader runs student code in a Jupyter kernel started by the runner
(:mod:`coursekit.grading.runner`). With the sandbox, that kernel is started inside
`bubblewrap <https://github.com/containers/bubblewrap>`_ (the ``bwrap`` command) and sees:

* **no network**: its own network namespace, with only a loopback interface;
* **its own processes only**: its own PID, IPC and host-name namespaces, and it dies with the
  runner (``--die-with-parent``);
* **a read-only Python**: ``/usr`` and the library folders, the virtual environment
  (``sys.prefix``), the interpreter it was made from (``sys.base_prefix``) and the ``coursekit``
  package, all mounted read-only at their usual paths;
* **a private** ``/tmp`` (a tmpfs limited in size and in number of files) holding its home and
  working folder ``/tmp/work``, a copy of the assignment's data files (mounted read-only at
  :data:`INNER_FILES` and copied in when the kernel starts);
* **a private** ``/dev/shm`` (a small tmpfs, also limited in size and files), where the C
  library makes POSIX semaphores and shared memory: ``multiprocessing.Lock()``, ``Pool`` and
  ``shared_memory`` need it, and fail with ``OSError: Read-only file system`` without it;
* **two grader files**: the answer record (:data:`INNER_RECORD`, the only host file it may
  write) and the folder of the kernel's ZeroMQ sockets (the same path inside and outside,
  because the runner connects to those sockets as files). That folder is a tiny tmpfs of its
  own, which the runner makes read-only once the kernel has started, so nothing else can be
  written there, whoever owns it;
* **nothing else writable**: the sandbox's root folder and ``/dev`` (tmpfs made by ``bwrap``,
  with no limits of their own) are read-only; ``/dev/shm`` is a mount of its own below it.

Where a kernel may write, the environment sets the limit. ``bwrap`` can give a tmpfs a size
but not a number of files (inodes), and a kernel that creates millions of empty files uses no
space but the machine's memory. So the runner mounts these three tmpfs itself, with ``size=`` and
``nr_inodes=``, in a mount namespace of its own (:meth:`SandboxSpec.enter`, before it starts
the kernel; as root a plain mount namespace, otherwise inside a user namespace, where tmpfs
mounts are allowed), and ``bwrap`` binds them in. They exist for the runner and the kernel
only, and disappear with them.

Nothing else exists inside: not the course directory (sources, hidden tests, gradebook, other
submissions, the reference answers), not the runner's own files (the notebook it runs, which
holds the hidden tests, and its event log), not the home folder, not the grader's environment
variables. Only the kernel is sandboxed, not the runner: the runner has to read the hidden
tests to run them and writes the events the grader trusts, so it must stay out of the student's
reach.

Inside, before the kernel starts, the process

* becomes an unprivileged user: when the grader runs as root, ``setpriv`` switches to a user id
  drawn at random from :data:`UID_RANGE` for this kernel alone, with no capabilities and
  ``no_new_privs``; otherwise a user namespace maps the grading account to ``nobody`` and forbids
  nested user namespaces. A fresh user id matters for ``RLIMIT_NPROC``, which Linux counts per
  real user (and does not enforce for root at all): two kernels graded side by side must not
  share one budget, or one student's fork bomb would stop the other student's kernel from
  starting a thread;
* gets resource limits (``prlimit``): address space (``RLIMIT_AS``), CPU seconds
  (``RLIMIT_CPU``), processes and threads (``RLIMIT_NPROC``), size of any file it writes
  (``RLIMIT_FSIZE``; Python then sees ``OSError: File too large``), no core dumps;
* raises its own ``oom_score_adj`` to 1000, so that if the machine ever runs out of memory the
  kernel processes are the first ones the kernel's OOM killer stops.

The sandbox is built from a :class:`SandboxSpec` that the grader writes next to the run
(:func:`prepare`) and that the runner loads (:meth:`SandboxSpec.load`), enters
(:meth:`SandboxSpec.enter`) and makes its :func:`kernel_manager_class` from.
:func:`unavailable_reason` says why no sandbox can be made on this machine (not Linux, no
``bwrap``, or ``bwrap`` or the private mounts fail a self-test); ``coursekit grade`` then
refuses to run unless ``--no-sandbox`` is given.
"""

from __future__ import annotations

import functools
import json
import multiprocessing.util
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

INSTALL_HINT = (
    "install bubblewrap (Debian or Ubuntu: apt-get install bubblewrap; "
    "Fedora: dnf install bubblewrap) or, to grade without isolation, pass --no-sandbox"
)

INNER_TMP = "/tmp"
INNER_WORK = "/tmp/work"
"""The kernel's working directory inside the sandbox."""
INNER_FILES = "/grading/files"
"""Read-only copy of the assignment's data files, copied into :data:`INNER_WORK` at start."""
INNER_RECORD = "/grading/answers.jsonl"
"""Where the answer record appears inside the sandbox."""
INNER_MPL_CACHE = "/grading/matplotlib"
"""Read-only copy of Matplotlib's font list (see :func:`matplotlib_cache`), copied into
:data:`KERNEL_MPL_CACHE` at start."""
KERNEL_MPL_CACHE = "/tmp/.cache/matplotlib"
"""Matplotlib's cache folder for the kernel (its default, below the home folder ``/tmp``)."""
INNER_SHM = "/dev/shm"
"""Where glibc's ``sem_open`` and ``shm_open`` make their files (the path is built into it)."""

UID_RANGE = (1_000_000_000, 2_000_000_000)
"""User ids used for sandboxed kernels when the grader runs as root (no account owns them)."""
NOBODY = 65534
SPEC_FILE = "sandbox.json"
KERNEL_DIR = "kernel"
TMP_DIR = "tmp"
"""Mount point, in the run's private folder, of the tmpfs that becomes the kernel's ``/tmp``."""
SHM_DIR = "shm"
"""Mount point, in the run's private folder, of the tmpfs that becomes the kernel's ``/dev/shm``."""
SOCKET_DIR_BYTES = 1024 * 1024
SOCKET_DIR_INODES = 32
"""Limits of the socket folder's tmpfs: the connection file and five sockets fit easily."""

_KERNEL_ENV = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "MPLBACKEND",
    "PYTHONHASHSEED",
    "PYDEVD_DISABLE_FILE_VALIDATION",
)
"""Variables of the runner's environment passed on to the kernel; all others are dropped."""

MIB = 1024 * 1024
MAX_MESSAGE_BYTES = 256 * MIB
"""Largest message the runner accepts from a sandboxed kernel. A cell keeps only 20 000
characters of output, but the runner, which has no memory limit, receives and decodes each
message whole: one ``print`` of a 400 MB string took it to 1.2 GB (measured). With the cap, a
larger message makes ZeroMQ drop that connection: the outputs of the rest of the notebook are
lost (each cell then waits 3 s for them), while grading is unaffected: whether a cell failed
comes with the kernel's reply on another channel, the answers through the record file."""


class SandboxUnavailable(Exception):
    """No sandbox can be made on this machine."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed kernel.

    Attributes:
        memory_mb: address space of each process (``RLIMIT_AS``). A kernel with NumPy and
            Matplotlib loaded already maps about 0.9 GB, so this is not the memory left for
            arrays: with 2048 the largest array that fits is about 1 GB.
        cpu_seconds: CPU time of each process (``RLIMIT_CPU``); at the soft limit the process
            gets ``SIGXCPU`` and dies, 5 s later ``SIGKILL``.
        max_processes: processes and threads of the kernel's user (``RLIMIT_NPROC``). An idle
            kernel uses about 12 threads.
        max_file_mb: size of any one file the kernel writes (``RLIMIT_FSIZE``), the answer
            record included.
        tmp_mb: size of the private ``/tmp`` (working folder and all files written there).
        tmp_inodes: files, folders and links the private ``/tmp`` may hold (its ``nr_inodes``).
            Empty files take no space, so without this a kernel could create millions; a
            notebook of this course makes a few dozen (its data files, Matplotlib's cache).
        shm_mb: size of the private ``/dev/shm`` (POSIX semaphores and shared memory). Every
            ``multiprocessing`` lock, queue or pool takes one 4 KiB page or a few there.
        shm_inodes: files the private ``/dev/shm`` may hold: one per semaphore or
            shared-memory block alive at once.
    """

    memory_mb: int = 2048
    cpu_seconds: int = 660
    max_processes: int = 64
    max_file_mb: int = 64
    tmp_mb: int = 512
    tmp_inodes: int = 10_000
    shm_mb: int = 32
    shm_inodes: int = 256

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(
                    f"sandbox limit {name} must be a positive whole number, got {value!r}"
                )


# --------------------------------------------------------------------------------------------
# Availability
# --------------------------------------------------------------------------------------------


def _tools(as_root: bool) -> list[str]:
    return ["bwrap", "prlimit", "sh", "cp", *(["setpriv"] if as_root else [])]


@functools.lru_cache(maxsize=None)
def unavailable_reason() -> str | None:
    """Why no sandbox can be made here, in words; None if it can.

    Checks the platform, the commands the sandbox needs, runs ``bwrap`` once with the
    namespaces the sandbox uses and mounts a limited tmpfs as :meth:`SandboxSpec.enter` does,
    in a child process (a fraction of a second; the answer is cached per process).
    """
    if not sys.platform.startswith("linux"):
        return f"the grading sandbox needs Linux (this is {sys.platform})"
    missing = [tool for tool in _tools(os.geteuid() == 0) if shutil.which(tool) is None]
    if missing:
        return (
            f"the grading sandbox needs the command(s) {', '.join(missing)}, "
            "which are not installed"
        )
    test = [
        "bwrap", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
        *_namespace_options(os.geteuid() == 0), "--", "true",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            test, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap could not be run: {exc}"
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bwrap cannot create the sandbox on this machine ({message})"
    with tempfile.TemporaryDirectory(prefix="ck-check-") as folder:
        check = f"from {__name__} import check_private_mounts; check_private_mounts({folder!r})"
        try:
            done = subprocess.run(
                [sys.executable, "-c", check],
                capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"the sandbox's private mounts could not be tried: {exc}"
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"the sandbox's limited file systems cannot be made on this machine ({message})"
    return None


def require_sandbox() -> None:
    """Raise :class:`SandboxUnavailable`, saying what to install, if no sandbox can be made."""
    reason = unavailable_reason()
    if reason:
        raise SandboxUnavailable(f"{reason}; {INSTALL_HINT}")


# --------------------------------------------------------------------------------------------
# Matplotlib's font list, built once per process
# --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def matplotlib_cache() -> str | None:
    """A folder holding Matplotlib's font list, made once per process; None if there is none.

    The kernel's home is a fresh tmpfs, so without it every sandboxed kernel that imports
    ``matplotlib.pyplot`` scans the system's fonts again (and runs ``fc-list``, whose own cache
    is not there either): measured 1.7-2.3 s of CPU time per submission on a loaded 2-core
    machine, against 0.6 s for the import with a cache. The list is built here in a child
    process whose home is an empty folder, so it names only fonts the sandbox sees too (the
    system's and Matplotlib's own, at the same paths inside), and :meth:`SandboxSpec.command`
    copies it into the kernel's cache folder. The kernel gets a writable copy of a file it
    would otherwise have written itself; a stale or unusable list only makes Matplotlib build
    it again, as before. The folder is removed when this process exits.
    """
    import importlib.util

    if importlib.util.find_spec("matplotlib") is None:
        return None
    folder = Path(tempfile.mkdtemp(prefix="ck-mpl-"))
    multiprocessing.util.Finalize(
        None, shutil.rmtree, args=(folder,), kwargs={"ignore_errors": True}, exitpriority=0
    )
    home, cache = folder / "home", folder / "cache"
    home.mkdir()
    cache.mkdir()
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "MPLCONFIGDIR": str(cache),
        "MPLBACKEND": "Agg",
        "LANG": "C.UTF-8",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-c", "import matplotlib.font_manager"],
            env=env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return None
    lists = list(cache.glob("fontlist-*.json"))
    if done.returncode != 0 or not lists:
        return None
    # Readable by the kernel's user (another one when the grader is root).
    os.chmod(cache, 0o755)
    for path in lists:
        os.chmod(path, 0o644)
    return str(cache)


# --------------------------------------------------------------------------------------------
# The runner's private mounts
# --------------------------------------------------------------------------------------------

# From <sched.h> and <sys/mount.h> (the same on every Linux architecture).
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_REC, _MS_PRIVATE = 32, 16384, 1 << 18
_TMPFS_FLAGS = _MS_NOSUID | _MS_NODEV


def _libc_call(name: str, *args: object) -> None:
    """Call ``name`` in the C library; raise ``OSError`` (with its errno) if it fails."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if getattr(libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}: {os.strerror(errno)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    try:
        _libc_call("mount", encode(source), target.encode(), encode(fstype), flags, encode(data))
    except OSError as exc:
        raise SandboxUnavailable(f"cannot mount {fstype or 'over'} {target}: {exc}") from exc


def _private_mount_namespace(as_root: bool) -> None:
    """Move this process into a mount namespace of its own, whose mounts the host never sees.

    As root a new mount namespace suffices. Otherwise it comes with a user namespace, in which
    this process may mount a tmpfs; the user namespace maps only the process's own user and
    group to themselves, so files it writes outside keep their owner. Linux allows a new user
    namespace only to a process with one thread: call this before anything starts a thread.
    """
    if _thread_count() > 1:
        raise SandboxUnavailable(
            "the sandbox's mounts must be made before the runner starts any thread"
        )
    uid, gid = os.getuid(), os.getgid()
    try:
        _libc_call("unshare", _CLONE_NEWNS | (0 if as_root else _CLONE_NEWUSER))
        if not as_root:
            Path("/proc/self/setgroups").write_text("deny")
            Path("/proc/self/uid_map").write_text(f"{uid} {uid} 1")
            Path("/proc/self/gid_map").write_text(f"{gid} {gid} 1")
    except OSError as exc:
        kind = "mount" if as_root else "user and mount"
        raise SandboxUnavailable(f"cannot make a private {kind} namespace: {exc}") from exc
    # Mounts made from now on must not propagate to the host's namespace (as root its mounts
    # may be shared with it).
    _mount(None, "/", None, _MS_REC | _MS_PRIVATE, "")


def _thread_count() -> int:
    """Threads of this process (from ``/proc``, which also counts threads not made by Python)."""
    try:
        return len(os.listdir("/proc/self/task"))
    except OSError:
        return 1


def check_private_mounts(folder: str) -> None:
    """Make a private mount namespace and a limited tmpfs on ``folder`` in it, as
    :meth:`SandboxSpec.enter` does. Run it in a child process of its own: it changes the
    namespaces of the process that calls it.

    Raises:
        SandboxUnavailable: saying what failed.
    """
    _private_mount_namespace(os.geteuid() == 0)
    _mount("tmpfs", folder, "tmpfs", _TMPFS_FLAGS, "size=65536,nr_inodes=4,mode=0700")
    try:
        for made in range(8):
            (Path(folder) / str(made)).touch()
    except OSError:
        return
    raise SandboxUnavailable("a tmpfs mounted with nr_inodes=4 accepted 8 files")


# --------------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------------


def _namespace_options(as_root: bool) -> list[str]:
    options = [
        "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
        "--hostname", "grading", "--die-with-parent",
        # A session of its own: the kernel's interrupt (sent to its process group) stays
        # inside, and the runner stops the kernel by killing bwrap, not by signalling a group.
        "--new-session",
    ]  # fmt: skip
    if not as_root:
        # Unprivileged bwrap needs a user namespace anyway; map the grading account to
        # "nobody" and forbid the kernel from making further user namespaces.
        options += ["--unshare-user", "--disable-userns"]
        options += ["--uid", str(NOBODY), "--gid", str(NOBODY)]
    return options


def python_paths() -> list[Path]:
    """Folders the kernel needs read-only, outside ``/usr``: the environment and its base
    interpreter. The ``coursekit`` package is not among them (see :func:`coursekit_files`)."""
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths: list[Path] = []
    for raw in candidates:
        path = Path(raw).resolve()
        if path == Path("/") or not path.exists():
            continue
        if any(path == p or p in path.parents for p in [Path("/usr"), *paths]):
            continue  # already visible
        paths = [p for p in paths if path not in p.parents]
        paths.append(path)
    return sorted(paths)


KERNEL_MODULES = (
    "coursekit", "coursekit.grading",
    "coursekit.grading.kernel_output", "coursekit.grading.kernel_harness",
)  # fmt: skip
"""The coursekit modules every kernel loads at start-up (none holds a reference implementation)."""


def coursekit_files(allowed: list[str]) -> tuple[str, list[str]]:
    """The ``coursekit`` package folder and the files of it the kernel may see.

    Only the modules in ``allowed`` (what the assignment's own cells import), their packages'
    ``__init__.py`` and the kernel's start-up modules are there; every other module of the
    package (the reference implementations of the tasks) does not exist inside the sandbox,
    however student code tries to reach it.
    """
    import importlib.util

    import coursekit

    package = Path(coursekit.__file__).resolve().parent
    files: set[str] = set()
    todo = list({*KERNEL_MODULES, *allowed})
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        parts = name.split(".")
        for size in range(1, len(parts) + 1):
            try:
                spec = importlib.util.find_spec(".".join(parts[:size]))
            except (ImportError, ValueError):
                spec = None
            if spec is not None and spec.origin and spec.origin.endswith(".py"):
                origin = Path(spec.origin).resolve()
                if (package == origin.parent or package in origin.parents) and str(
                    origin
                ) not in files:
                    files.add(str(origin))
                    # What an allowed module imports of coursekit must be there too.
                    todo.extend(_coursekit_imports_of(origin, ".".join(parts[:size])))
    return str(package), sorted(files)


def _coursekit_imports_of(path: Path, module: str) -> list[str]:
    """The coursekit modules a module's file imports (absolute or relative)."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.split(".")[0] == "coursekit"]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            if base.split(".")[0] == "coursekit":
                found.append(base)
                found += [f"{base}.{a.name}" for a in node.names if a.name != "*"]
    return found


@dataclass
class SandboxSpec:
    """Everything needed to build the sandbox command for one run.

    Attributes:
        root: the run's private folder (outside the sandbox, removed after the run).
        files: host folder with the assignment's data files (copied in at start).
        record: host path of the answer record, or None when answers are not recorded.
        limits: the resource limits.
        uid: the user id the kernel runs as (when the grader is root), else None.
        python: read-only folders of the Python environment (see :func:`python_paths`).
        env: environment variables given to the kernel.
        package: the ``coursekit`` package folder (an empty read-only folder inside, but for
            ``package_files``).
        package_files: the files of the package the kernel may read (see :func:`coursekit_files`).
        matplotlib_cache: host folder with Matplotlib's font list (see :func:`matplotlib_cache`),
            copied into the kernel's cache folder at start; None: the kernel builds its own.
    """

    root: str
    files: str
    record: str | None
    limits: SandboxLimits
    uid: int | None
    python: list[str]
    env: dict[str, str]
    package: str = ""
    package_files: list[str] = field(default_factory=list)
    matplotlib_cache: str | None = None

    @property
    def kernel_dir(self) -> Path:
        """Folder of the connection file and the sockets; same path inside and outside."""
        return Path(self.root) / KERNEL_DIR

    @property
    def tmp_dir(self) -> Path:
        """Where the tmpfs that becomes the kernel's ``/tmp`` is mounted (see :meth:`enter`)."""
        return Path(self.root) / TMP_DIR

    @property
    def shm_dir(self) -> Path:
        """Where the tmpfs that becomes the kernel's ``/dev/shm`` is mounted (see :meth:`enter`)."""
        return Path(self.root) / SHM_DIR

    def _socket_dir_options(self, read_only: bool = False) -> tuple[int, str]:
        # As root the folder is root's, sticky and writable by others, so that the kernel's
        # user can create its sockets; otherwise the kernel's user is the grader's own.
        mode = "1733" if self.uid is not None else "0700"
        flags = _TMPFS_FLAGS | _MS_NOEXEC | (_MS_REMOUNT | _MS_RDONLY if read_only else 0)
        return flags, f"size={SOCKET_DIR_BYTES},nr_inodes={SOCKET_DIR_INODES},mode={mode}"

    def enter(self) -> None:
        """Give this process the kernel's writable file systems, limited in size and inodes.

        Moves the calling process (the runner, before it starts the kernel and any thread) into
        a private mount namespace and mounts there a tmpfs on :attr:`tmp_dir` and one on
        :attr:`shm_dir` (``size=`` and ``nr_inodes=`` from the limits), and a tiny one on
        :attr:`kernel_dir`. :meth:`command` binds them into the sandbox, and refuses to run
        without them.

        Raises:
            SandboxUnavailable: if the namespace or the mounts cannot be made.
        """
        _private_mount_namespace(self.uid is not None)
        lim = self.limits
        _mount(
            "tmpfs", str(self.tmp_dir), "tmpfs", _TMPFS_FLAGS,
            f"size={lim.tmp_mb * MIB},nr_inodes={lim.tmp_inodes},mode=1777",
        )  # fmt: skip
        _mount(
            "tmpfs", str(self.shm_dir), "tmpfs", _TMPFS_FLAGS,
            f"size={lim.shm_mb * MIB},nr_inodes={lim.shm_inodes},mode=1777",
        )  # fmt: skip
        flags, options = self._socket_dir_options()
        _mount("tmpfs", str(self.kernel_dir), "tmpfs", flags, options)

    def save(self) -> Path:
        path = Path(self.root) / SPEC_FILE
        data = asdict(self)
        path.write_text(json.dumps(data, indent=1), encoding="utf-8")
        return path

    @classmethod
    def load(cls, root: str | os.PathLike) -> "SandboxSpec":
        """Read the spec :func:`prepare` wrote into ``root``.

        Raises:
            SandboxUnavailable: if it is missing or unreadable.
        """
        path = Path(root) / SPEC_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["limits"] = SandboxLimits(**data["limits"])
            return cls(**data)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise SandboxUnavailable(
                f"the sandbox description {path} could not be read: {exc}"
            ) from exc

    def command(self, kernel_argv: list[str]) -> list[str]:
        """The full command line: bwrap, then the user switch and limits, then the kernel.

        Run it from the process that called :meth:`enter`.

        Raises:
            SandboxUnavailable: if the limited file systems of :meth:`enter` are not mounted.
        """
        for folder in (self.tmp_dir, self.shm_dir, self.kernel_dir):
            if not os.path.ismount(folder):
                raise SandboxUnavailable(
                    f"{folder} is not a mount point: the sandbox's limited file systems are "
                    "missing (SandboxSpec.enter() was not called in this process)"
                )
        as_root = self.uid is not None
        made: set[str] = {"/"}
        cmd = ["bwrap", *_namespace_options(as_root)]

        def parents(path: str) -> None:
            # bwrap would create missing parent folders readable by root only.
            for parent in reversed(Path(path).parents):
                if str(parent) not in made:
                    cmd.extend(["--perms", "0755", "--dir", str(parent)])
                    made.add(str(parent))

        def mount(option: str, source: str, target: str) -> None:
            parents(target)
            cmd.extend([option, source, target])
            made.add(target)

        # The system: /usr read-only, the merged-/usr links or folders next to it.
        mount("--ro-bind", "/usr", "/usr")
        for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
            host = Path("/") / name
            if host.is_symlink():
                cmd.extend(["--symlink", os.readlink(host), str(host)])
            elif host.is_dir():
                mount("--ro-bind", str(host), str(host))
        cmd.extend(["--perms", "0755", "--dir", "/etc"])
        made.add("/etc")
        # The loader's cache (speed) and the font configuration (Matplotlib complains on
        # stderr without it); nothing else of /etc.
        for name in ("ld.so.cache", "fonts"):
            if (Path("/etc") / name).exists():
                mount("--ro-bind", f"/etc/{name}", f"/etc/{name}")
        for name in ("passwd", "group"):
            mount("--ro-bind", str(Path(self.root) / name), f"/etc/{name}")
        cmd.extend(["--proc", "/proc", "--dev", "/dev"])
        # Semaphores and shared memory (multiprocessing): the limited tmpfs of enter(). bwrap's
        # --remount-ro of /dev below is not recursive, so this mount stays writable.
        cmd.extend(["--bind", str(self.shm_dir), INNER_SHM])
        made.add(INNER_SHM)
        # Private /tmp (the limited tmpfs of enter()), mounted before anything that may live
        # below it: a virtual environment or a course checkout under /tmp (a CI clone) would
        # otherwise be hidden by it.
        cmd.extend(["--bind", str(self.tmp_dir), INNER_TMP])
        made.add(INNER_TMP)
        # The Python environment, read-only at its own paths.
        for path in self.python:
            mount("--ro-bind", path, path)
        if self.package:
            # Over the package folder (wherever it is installed): an empty folder with only the
            # allowed modules in it, then made read-only.
            parents(self.package)
            cmd.extend(["--perms", "0755", "--size", str(MIB), "--tmpfs", self.package])
            made.add(self.package)
            for path in self.package_files:
                mount("--ro-bind", path, path)
            cmd.extend(["--remount-ro", self.package])
        mount("--ro-bind", self.files, INNER_FILES)
        if self.matplotlib_cache is not None:
            mount("--ro-bind", self.matplotlib_cache, INNER_MPL_CACHE)
        if self.record is not None:
            mount("--bind", self.record, INNER_RECORD)
        mount("--bind", str(self.kernel_dir), str(self.kernel_dir))
        # bwrap's own tmpfs (the root folder and /dev) have no limits, and without root the
        # kernel's user owns them: read-only, like the rest.
        cmd.extend(["--remount-ro", "/dev", "--remount-ro", "/"])
        cmd.append("--clearenv")
        for key, value in sorted(self.env.items()):
            cmd.extend(["--setenv", key, value])
        cmd.extend(["--chdir", "/", "--"])
        if as_root:
            cmd.extend([
                "setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            ])  # fmt: skip
        lim = self.limits
        start = 'echo 1000 > /proc/self/oom_score_adj && mkdir -p "$0" && cp -R "$1"/. "$0"/'
        if self.matplotlib_cache is not None:
            # Matplotlib's font list, so that the kernel does not scan the fonts again.
            cache = KERNEL_MPL_CACHE
            start += f" && mkdir -p {cache} && cp -R {INNER_MPL_CACHE}/. {cache}/"
        cmd.extend([
            "prlimit",
            f"--as={lim.memory_mb * MIB}",
            f"--cpu={lim.cpu_seconds}:{lim.cpu_seconds + 5}",
            f"--nproc={lim.max_processes}",
            f"--fsize={lim.max_file_mb * MIB}",
            "--core=0",
            "--",
            "sh", "-c",
            # $0: the working folder, $1: the data files, then the kernel's command.
            start + ' && cd "$0" && shift && exec "$@"',
            INNER_WORK, INNER_FILES,
            *kernel_argv,
        ])  # fmt: skip
        return cmd

    def lock(self) -> None:
        """Make the socket folder read-only (once the kernel's sockets exist).

        The whole tmpfs becomes read-only, in every mount of it, the sandbox's included: no
        file can be made, changed or given other permissions there, even by its owner (without
        root the kernel's user is the grader's own), and only a process with the rights to
        mount in the runner's namespace could undo it. Connecting to the sockets still works.
        """
        flags, options = self._socket_dir_options(read_only=True)
        _mount(None, str(self.kernel_dir), None, flags, options)


def prepare(
    scratch: Path,
    files: Path,
    record: Path | None,
    limits: SandboxLimits,
    env: dict[str, str],
    allowed: list[str] | None = None,
) -> Path:
    """Make the private folder for one sandboxed run and write its :class:`SandboxSpec`.

    Args:
        scratch: where to create the folder (its path must be short: the kernel's socket
            paths, which live in it, are limited to about 100 characters).
        files: the run's working folder on the host (the assignment's data files).
        record: the answer record file (created empty here), or None.
        limits: resource limits.
        env: the runner's environment; only :data:`_KERNEL_ENV` and the record variable pass.
        allowed: the coursekit modules the kernel may import (see :func:`coursekit_files`).

    Returns:
        The folder; pass it to the runner and remove it after the run.
    """
    from coursekit.checks import RECORD_ENV

    root = Path(tempfile.mkdtemp(prefix="ck-", dir=scratch))
    as_root = os.geteuid() == 0
    uid = secrets.randbelow(UID_RANGE[1] - UID_RANGE[0]) + UID_RANGE[0] if as_root else None
    kernel_dir = root / KERNEL_DIR
    kernel_dir.mkdir()
    (root / TMP_DIR).mkdir()  # mount points for SandboxSpec.enter()
    (root / SHM_DIR).mkdir()
    inner_uid = uid if as_root else NOBODY
    passwd = f"student:x:{inner_uid}:{inner_uid}:student:{INNER_TMP}:/usr/sbin/nologin\n"
    (root / "passwd").write_text(passwd)
    (root / "group").write_text(f"student:x:{inner_uid}:\n")
    kernel_env = {key: env[key] for key in _KERNEL_ENV if key in env}
    kernel_env.update(
        PATH=f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        HOME=INNER_TMP,
        TMPDIR=INNER_TMP,
        USER="student",
        LOGNAME="student",
        LANG="C.UTF-8",
    )
    if record is not None:
        record.touch()
        kernel_env[RECORD_ENV] = INNER_RECORD
    if as_root:
        # The folder itself stays root's (0711); inside it the kernel's user may write the
        # record and read the data files. (The socket folder and /tmp are tmpfs, see enter().)
        os.chmod(root, 0o711)
        if record is not None:
            assert uid is not None  # as_root chose the kernel's uid above
            os.chown(record, uid, uid)
        for path in [files, *files.rglob("*")]:
            if not path.is_symlink():
                os.chmod(path, path.stat().st_mode | (0o555 if path.is_dir() else 0o444))
    package, package_files = coursekit_files(list(allowed or ["coursekit.checks"]))
    SandboxSpec(
        package=package,
        package_files=package_files,
        root=str(root),
        files=str(files),
        record=None if record is None else str(record),
        limits=limits,
        uid=uid,
        python=[str(p) for p in python_paths()],
        env=kernel_env,
        matplotlib_cache=matplotlib_cache(),
    ).save()
    return root


# --------------------------------------------------------------------------------------------
# The kernel manager
# --------------------------------------------------------------------------------------------


def kernel_manager_class(spec: SandboxSpec):
    """A Jupyter ``AsyncKernelManager`` class whose kernels start inside ``spec``'s sandbox.

    The kernel talks to the runner over Unix sockets (ZeroMQ ``ipc`` transport) in
    ``spec.kernel_dir`` instead of TCP ports: the kernel's network namespace has no route to
    the runner's loopback, but a socket file in a shared folder works across namespaces.
    Interrupts are sent as ``interrupt_request`` messages, since a signal from outside would
    reach bwrap rather than the kernel. Messages larger than :data:`MAX_MESSAGE_BYTES` are
    refused.
    """
    import zmq
    from jupyter_client.manager import AsyncKernelManager

    class SandboxedKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.transport = "ipc"
            self.ip = str(spec.kernel_dir / "k")
            self.connection_file = str(spec.kernel_dir / "connection.json")

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            argv = super().format_kernel_cmd(extra_arguments)
            assert self.kernel_spec is not None  # the command above was built from it
            self.kernel_spec.interrupt_mode = "message"
            if spec.uid is not None:
                # Readable by the kernel, still owned (and only writable) by the grader.
                os.chmod(self.connection_file, 0o644)
            return spec.command(argv)

        def client(self, **kwargs):
            kc = super().client(**kwargs)
            # A default for every socket the client opens from now on.
            kc.context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            return kc

    return SandboxedKernelManager


def main(argv: list[str] | None = None) -> int:
    """``python -m coursekit.grading.sandbox ROOT -- COMMAND...``: run a command in the sandbox
    that :func:`prepare` made in ``ROOT``, as the runner runs the kernel (to try the sandbox
    by hand or in tests)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) < 3 or args[1] != "--":
        print(main.__doc__, file=sys.stderr)
        return 2
    spec = SandboxSpec.load(args[0])
    spec.enter()
    command = spec.command(args[2:])
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
