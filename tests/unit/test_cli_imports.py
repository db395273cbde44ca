"""The command line imports its heavy rooms inside the commands (so `iotlab --help` stays fast): every such
import must resolve, or a command fails only when someone runs it."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import iotlab.cli


def deferred_imports() -> list[tuple[str, str, str]]:
    found = []
    for path in sorted(Path(iotlab.cli.__file__).parent.glob("*.py")):
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef):
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("iotlab"):
                        found += [(path.name, node.module, alias.name) for alias in node.names]
    return found


def test_every_deferred_import_in_the_cli_resolves():
    imports = deferred_imports()
    assert len(imports) >= 8
    for file, module, name in imports:
        assert hasattr(importlib.import_module(module), name), f"{file}: from {module} import {name}"
