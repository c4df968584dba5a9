"""Sphinx extension: execute the chapter notebooks in parallel before Sphinx reads them.

With ``execute_notebooks: cache``, myst-nb runs each notebook that is not in the jupyter-cache
when Sphinx reads it, one after the other; Jupyter Book 1 offers no parallel build. A cold build
therefore spends most of its time waiting for one kernel at a time while the other core idles.

Just before Sphinx reads the changed documents (``env-before-read-docs``), this extension finds
the notebooks among them that the cache does not hold yet, executes them in worker processes
(one per CPU core, at most one per notebook) with the settings myst-nb would use (working
directory, timeout, allow-errors), and stores the results in the same cache. myst-nb then finds
every one of them cached and only renders it. A notebook that fails here is simply not cached:
myst-nb executes it again and reports the error exactly as without this extension.
"""

from __future__ import annotations

import fnmatch
import importlib.util
import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import nbformat
from sphinx.util import logging

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent


def _execute(
    path: str, cwd: str, timeout: int | None, allow_errors: bool
) -> tuple[str, str | None, float, str | None]:
    """Worker: run one notebook; return (path, executed notebook JSON or None, seconds, error)."""
    from jupyter_cache.executors.utils import single_nb_execution

    spec = importlib.util.spec_from_file_location("kernel_channels", HERE / "kernel_channels.py")
    if spec is not None and spec.loader is not None:  # the same stall fix as in the build process
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.install()
    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(
        notebook, cwd=cwd, allow_errors=allow_errors, timeout=timeout, meta_override=True
    )
    if result.err is not None:
        return path, None, result.time, f"{type(result.err).__name__}: {result.err}"
    return path, nbformat.writes(notebook), result.time, None


def _excluded(path: Path, srcdir: Path, patterns: list[str]) -> bool:
    relative = path.relative_to(srcdir).as_posix()
    return any(fnmatch.fnmatch(relative, pattern) for pattern in patterns)


def pending_notebooks(app: Any, docnames: list[str]) -> list[Path]:
    """The notebooks among ``docnames`` that the execution cache does not hold."""
    from jupyter_cache import get_cache

    config = app.env.mystnb_config  # myst-nb's resolved settings, including the cache path
    srcdir = Path(app.srcdir)
    cache = get_cache(config.execution_cache_path)
    pending = []
    for docname in docnames:
        path = Path(app.env.doc2path(docname))
        if path.suffix != ".ipynb" or _excluded(
            path, srcdir, list(config.execution_excludepatterns)
        ):
            continue
        try:
            cache.match_cache_notebook(nbformat.read(path, as_version=4))
        except KeyError:
            pending.append(path)
    return pending


def execute_pending(app: Any, env: Any, docnames: list[str]) -> None:
    """Execute the uncached notebooks in parallel and cache them (``env-before-read-docs``)."""
    config = app.env.mystnb_config
    if config.execution_mode != "cache" or config.execution_in_temp:
        return
    pending = pending_notebooks(app, docnames)
    workers = min(len(pending), os.cpu_count() or 1)
    if workers < 2:
        return  # nothing to gain: myst-nb executes it as usual
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    logger.info("parallel_execution: executing %d notebooks in %d processes", len(pending), workers)
    started = time.monotonic()
    cache = get_cache(config.execution_cache_path)
    timeout = config.execution_timeout
    allow_errors = bool(config.execution_allow_errors)
    # "spawn": a clean interpreter per worker, nothing inherited from the Sphinx process.
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {
            pool.submit(_execute, str(path), str(path.parent), timeout, allow_errors): path
            for path in pending
        }
        for future, path in futures.items():
            try:
                _, executed, seconds, error = future.result()
            except Exception as crash:  # a worker that died; the notebook is simply left uncached
                executed, seconds, error = None, 0.0, f"{type(crash).__name__}: {crash}"
            if executed is None:
                logger.info(
                    "parallel_execution: %s failed (%s); myst-nb will run it again and report",
                    path,
                    error,
                )
                continue
            stage = cache.add_nb_to_project(path)
            cache.cache_notebook_bundle(
                CacheBundleIn(
                    nbformat.reads(executed, as_version=4),
                    stage.uri,
                    data={"execution_seconds": seconds},
                ),
                check_validity=False,
                overwrite=True,
            )
    logger.info("parallel_execution: done in %.1f s", time.monotonic() - started)


def setup(app: Any) -> dict[str, Any]:
    app.connect("env-before-read-docs", execute_pending)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
