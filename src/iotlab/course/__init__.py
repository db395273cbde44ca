"""Course tooling: the notebook builder (solutions/ → notebooks/), the check machinery, live metric plots (``live``),
and one module of exercise checks per notebook in ``exercises`` (checks and exercise answers only, never library
code).

Nothing in the package imports this room; notebooks and the command line do.
"""

from iotlab.course.builder import build_all, learner_notebook, strip_solutions
from iotlab.course.checks import CheckResult, class_or_reference, solution_or_reference
from iotlab.course.live import Panel, operator_chain, short_name, watch

__all__ = ["CheckResult", "Panel", "build_all", "class_or_reference", "learner_notebook", "operator_chain",
           "short_name", "solution_or_reference", "strip_solutions", "watch"]
