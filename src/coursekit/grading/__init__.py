"""The autograder for the course's nbgrader assignments (the ``coursekit`` command).

Grading one submission takes three steps, each in its own module:

1. :mod:`~coursekit.grading.submitted_files` reads the submitted notebook (regular files inside
   the submission folder only) and :mod:`~coursekit.grading.canonical` builds the notebook to
   grade from the *source* notebook's cells with the student's answer cells and added code
   cells put in, so editing, deleting or reordering cells can neither hurt nor help;
   :mod:`~coursekit.grading.lint` looks for tampering with the answer checks, and
   :mod:`~coursekit.grading.blind` takes the expected values out of the test cells.
2. :mod:`~coursekit.grading.runner` (the parent side) runs it in a child process,
   :mod:`~coursekit.grading.executor` (the kernel side), with per-cell and per-notebook time
   limits and output limits, recording every ``check()`` answer per cell; the kernel runs in
   :mod:`~coursekit.grading.sandbox`, with :mod:`~coursekit.grading.kernel_output` and
   :mod:`~coursekit.grading.kernel_harness` (the import allow-list, ``exit()``, what the tests
   rely on) installed in it, and :mod:`~coursekit.grading.kernel_channels` on the client side.
3. :mod:`~coursekit.grading.scoring` compares the answers with the reference solution's
   (:mod:`~coursekit.grading.reference`) outside the student's kernel.

:mod:`~coursekit.grading.submission` does this for one student, :mod:`~coursekit.grading.batch`
for all of them in parallel, :mod:`~coursekit.grading.gradebook` stores the scores in
nbgrader's gradebook, and :mod:`~coursekit.grading.release`, :mod:`~coursekit.grading.feedback`
and :mod:`~coursekit.grading.validate` implement the other commands (:mod:`~coursekit.grading.cli`).
"""

import sys as _sys

# nbformat validates with jsonschema, which on import compiles the grammar of its optional IRI
# format checker (the rfc3987-syntax package): about 2.5 s per process, for a string format no
# notebook schema uses. The grader starts a fresh process per notebook run, so that checker is
# skipped here; jsonschema treats the package as not installed.
if "jsonschema" not in _sys.modules:
    # A None entry in sys.modules makes the import raise ImportError, which is the intent.
    _sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
