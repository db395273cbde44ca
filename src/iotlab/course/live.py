"""Live metric plots in a notebook: PromQL queries redrawn as line charts every few seconds while a job runs.

Prometheus keeps each series' history, so every redraw asks it for the last minutes of each query
(``iotlab.lab.prometheus.series``) and draws them again, in one figure that replaces itself in the cell's output.
The figure left at the end is the last one drawn: what nbval keeps, and what a learner reads once the job ends.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from iotlab.lab.prometheus import series

if TYPE_CHECKING:  # imported where drawn: the command line imports the course room too, and never draws
    import matplotlib.pyplot as plt
    import pandas as pd


@dataclass(frozen=True)
class Panel:
    """One chart: a PromQL query, the label that names each of its lines, the unit of its y axis."""

    title: str
    promql: str
    label: Optional[str] = None  # None: one line, or lines named by all their labels
    unit: str = ""


def short_name(task_name: str, width: int = 30) -> str:
    """A Flink task's name cut short for a legend: its chain of operators, without their numbers."""
    return operator_chain(task_name, width)


def operator_chain(task_name: str, width: int = 44) -> str:
    """A Flink task's name as its chain of operators without their numbers (``OverAggregate → Calc``): the same
    task of two jobs built from one graph gets the same name, though the planner numbers each job's operators on."""
    # Operator numbers are "_15_"; " -> " between two operators became a run of four or more underscores.
    parts = re.split(r"_{4,}", re.sub(r"_\d+_", "_", task_name).replace("Source:_", "Source: "))
    chain = " → ".join(part.strip("_").replace("_:_", ": ") for part in parts if part.strip("_"))
    return chain if len(chain) <= width else chain[: width - 1] + "…"


def draw(panels: list[Panel], minutes: float, figure: Optional[plt.Figure] = None,
         columns: int = 3) -> tuple[plt.Figure, dict[str, pd.DataFrame]]:
    """Each panel's series over the last ``minutes``, as a grid of line charts; (the figure, the frames)."""
    import matplotlib.pyplot as plt

    rows = -(-len(panels) // columns)
    if figure is None:
        figure = plt.figure(figsize=(5 * columns, 3.2 * rows))
    figure.clear()
    frames = {}
    for index, panel in enumerate(panels):
        axes = figure.add_subplot(rows, columns, index + 1)
        frame = series(panel.promql, minutes=minutes, label=panel.label)
        if panel.label == "task_name":
            frame = frame.rename(columns=short_name)
        elif panel.label is None and len(frame.columns) == 1:
            frame.columns = [panel.title]  # one line: its labels would only make a long legend
        frames[panel.title] = frame
        if frame.empty:
            axes.text(0.5, 0.5, "no data yet", ha="center", va="center", transform=axes.transAxes)
        else:
            legend = 1 < len(frame.columns) <= 10
            frame.plot(ax=axes, legend=legend)
            if legend:
                axes.legend(fontsize=6, loc="upper left")
        axes.set_title(panel.title, fontsize=10)
        axes.set_ylabel(panel.unit)
        axes.set_xlabel("")
        axes.tick_params(labelsize=8)
    figure.tight_layout()
    return figure, frames


def watch(panels: list[Panel], seconds: float, every_s: float = 5, minutes: float = 2,
          columns: int = 3) -> dict[str, pd.DataFrame]:
    """Redraw ``panels`` every ``every_s`` seconds for ``seconds`` seconds in one output; each panel's last
    frame (time index, one column per line)."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    figure, frames = draw(panels, minutes, columns=columns)
    handle = display(figure, display_id=True)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(min(every_s, max(deadline - time.monotonic(), 0)))
        figure, frames = draw(panels, minutes, figure, columns)
        handle.update(figure)
    plt.close(figure)  # drawn once in the output above; not again when the cell ends
    return frames
