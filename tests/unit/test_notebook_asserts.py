"""A cell after an exercise never fails with a bare ``AssertionError``: every ``assert`` in a solution notebook's
code, outside the hidden tests, says what differs and what to do. (A learner's answer that passed its check
still feeds the cells that follow; when one of them stops, its message is all the learner has.)"""

import ast
import json
import re

import pytest

from iotlab.core.paths import project_root

SOLUTIONS = sorted((project_root() / "solutions").glob("*.ipynb"))
HIDDEN_TESTS = re.compile(r"### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS", flags=re.DOTALL)


def bare_asserts(source: str) -> list[str]:
    """The asserts without a message in one cell's code (hidden tests and IPython magics left out)."""
    code = "\n".join(line for line in HIDDEN_TESTS.sub("", source).splitlines()
                     if not line.lstrip().startswith(("%", "!")))
    return [ast.unparse(node.test) for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Assert) and node.msg is None]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda path: path.stem)
def test_every_assert_in_a_solution_notebook_says_what_went_wrong(path):
    cells = json.loads(path.read_text())["cells"]
    found = [f"cell {index}: assert {test[:80]}" for index, cell in enumerate(cells) if cell["cell_type"] == "code"
             for test in bare_asserts("".join(cell["source"]))]
    assert not found, "asserts without a message (say what differs and what to do):\n" + "\n".join(found)


def test_a_bare_assert_is_found_and_one_with_a_message_is_not():
    assert bare_asserts("x = 1\nassert x == 2") == ["x == 2"]
    assert bare_asserts('assert x == 2, f"x is {x}, not 2: run the cell above first"') == []
    assert bare_asserts("### BEGIN HIDDEN TESTS\nassert result.passed\n### END HIDDEN TESTS") == []
