"""The repository's nbval settings (conftest.py at the root): stderr noise is ignored, stdout still compared."""

import subprocess
import sys
import tempfile

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from iotlab.core.paths import project_root


def stored_cell(source: str, stdout: str, count: int):
    cell = new_code_cell(source, execution_count=count)
    cell.outputs = [new_output("stream", name="stdout", text=stdout)]
    return cell


def test_stderr_is_not_compared_but_stdout_is():
    notebook = new_notebook(cells=[
        stored_cell('import sys\nprint("result 42")\nprint("retrying...", file=sys.stderr)', "result 42\n", 1),
        stored_cell('print("result 43")', "result 42\n", 2),
    ], metadata={"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}})
    # Inside the repository, so that its conftest.py applies.
    with tempfile.TemporaryDirectory(dir=project_root(), prefix=".nbval-probe-") as folder:
        path = f"{folder}/probe.ipynb"
        nbformat.write(notebook, path)
        run = subprocess.run([sys.executable, "-m", "pytest", "--nbval", path, "-p", "no:cacheprovider", "-q"],
                             cwd=project_root(), capture_output=True, text=True, timeout=120)
    assert "1 failed, 1 passed" in run.stdout, run.stdout[-2000:]
    summary = run.stdout.split("short test summary")[-1]
    assert "probe.ipynb::Cell 1" in summary and "probe.ipynb::Cell 0" not in summary
