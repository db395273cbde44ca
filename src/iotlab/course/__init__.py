"""Course tooling: the notebook builder (solutions/ → notebooks/), the check machinery, and one module of
exercise checks per notebook in ``exercises`` (checks and exercise answers only, never library code).

Nothing in the package imports this room; notebooks and the command line do.
"""

from iotlab.course.builder import build_all, learner_notebook, strip_solutions
from iotlab.course.checks import CheckResult, class_or_reference, solution_or_reference

__all__ = ["CheckResult", "build_all", "class_or_reference", "learner_notebook", "solution_or_reference",
           "strip_solutions"]
