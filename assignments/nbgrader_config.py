# nbgrader settings for the course, read by nbgrader and by the `coursekit` command.
#
# Grade with `coursekit grade A`, not `nbgrader autograde`: coursekit builds the graded notebook
# from the source notebook's cells, runs it in a separate process and compares answers outside
# the student's kernel. The settings below make plain nbgrader commands as safe as they can be
# made too, and coursekit reads the time and output limits from here so both agree.

import os

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)

# --- Course -------------------------------------------------------------------------------
# The course directory is the folder of this file, wherever the repository is checked out.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.course_id = "nn-basics"

# --- Releasing assignments ----------------------------------------------------------------
# What replaces a solution. Students see this stub; coursekit also uses it to tell an
# untouched answer cell from an answered one.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# A solution region outside a solution cell would be released as is, so refuse it.
c.ClearSolutions.enforce_metadata = True
# Same for hidden tests outside a test cell.
c.ClearHiddenTests.enforce_metadata = True

# --- Running notebooks --------------------------------------------------------------------
# Seconds a single cell may run before the kernel is interrupted. No cell of the assignments'
# solutions takes more than about a second; 30 s leaves room for a slow but correct loop-based
# answer on a busy machine.
# `coursekit grade --timeout SEC` overrides it for one run.
c.Execute.timeout = 30
# Interrupt a cell that runs too long and carry on with the next one, instead of failing
# the whole notebook.
c.Execute.interrupt_on_timeout = True
# A cell that ignores the interrupt (`except KeyboardInterrupt: pass` in a loop) otherwise
# ends in "Timeout waiting for IOPub output", which fails the *whole* submission.
c.Execute.raise_on_iopub_timeout = False

# Cap what a cell may print: a print in a loop would otherwise produce notebooks of hundreds
# of megabytes. coursekit applies the same line and traceback limits while the cell runs.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100

# --- Autograding with plain nbgrader -----------------------------------------------------
# Put back grade cells a student deleted (without this, the deleted test simply vanishes).
c.OverwriteCells.add_missing_cells = True

# --- Feedback -----------------------------------------------------------------------------
# nbgrader's feedback shows hidden tests and the hidden lines in tracebacks; this
# preprocessor removes both, so even `nbgrader generate_feedback` keeps them secret.
c.GenerateFeedback.preprocessors = [
    "coursekit.grading.feedback.HideHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]

# --- coursekit's own limits ---------------------------------------------------------------
# Hard limit for one whole notebook: the runner's process group and kernel are killed after
# this many seconds, whatever the notebook does.
c.CoursekitGrading.notebook_timeout = 600
# Seconds to wait for a kernel to respond after an interrupt before it is killed.
c.CoursekitGrading.interrupt_grace = 5
# Characters of output kept per cell (the rest is dropped as it arrives).
c.CoursekitGrading.max_output_chars = 20000

# --- the grading sandbox (bubblewrap; see the instructor guide) ----------------------------
# Address space of each kernel process, in MB. A kernel with NumPy and Matplotlib loaded maps
# about 900 MB already, so this leaves room for arrays of about 1 GB.
c.CoursekitGrading.memory_limit_mb = 2048
# CPU seconds of each kernel process. Left unset, it follows notebook_timeout plus a minute,
# so the wall-clock limits above stop a slow notebook first and this only stops one that
# burns several cores at once.
# c.CoursekitGrading.cpu_limit_seconds = 660
# Processes and threads of one kernel (an idle kernel uses about 12): stops a fork bomb.
c.CoursekitGrading.max_processes = 64
# Size of any one file the kernel writes, and of its private /tmp, in MB.
c.CoursekitGrading.max_file_size_mb = 64
c.CoursekitGrading.tmp_size_mb = 512
# Files, folders and links the private /tmp may hold (empty files take no space, so the size
# alone does not stop a kernel from making millions of them).
c.CoursekitGrading.tmp_inodes = 10000
# The private /dev/shm, where multiprocessing makes its locks and shared memory: its size in MB
# and the number of semaphores and shared-memory blocks it may hold at once.
c.CoursekitGrading.shm_size_mb = 32
c.CoursekitGrading.shm_inodes = 256
