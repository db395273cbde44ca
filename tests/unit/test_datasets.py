"""The committed datasets are exactly what their documented commands produce, and stay small."""

import shlex

import pytest
from click.testing import CliRunner

from iotlab.cli import main
from iotlab.core.paths import project_root

DATA = project_root() / "data"
COMMANDS = [line.strip() for line in (DATA / "README.md").read_text().splitlines()
            if line.strip().startswith("iotlab simulate ")]


def test_every_dataset_has_a_documented_command():
    documented = {shlex.split(command)[shlex.split(command).index("--out") + 1] for command in COMMANDS}
    committed = {f"data/{path.name}" for path in DATA.glob("*.jsonl") if not path.name.endswith(".labels.jsonl")}
    assert committed and documented == committed


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.split("--out ")[1])
def test_regeneration_gives_identical_bytes(command, tmp_path):
    arguments = shlex.split(command)[1:]
    target = arguments[arguments.index("--out") + 1]
    arguments[arguments.index("--out") + 1] = str(tmp_path / "out.jsonl")
    result = CliRunner().invoke(main, arguments + ["--no-progress"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out.jsonl").read_bytes() == (project_root() / target).read_bytes()
    labels = target.removesuffix(".jsonl") + ".labels.jsonl"
    assert (tmp_path / "out.labels.jsonl").read_bytes() == (project_root() / labels).read_bytes()


def test_data_stays_under_20_mb():
    assert sum(path.stat().st_size for path in DATA.rglob("*") if path.is_file()) < 20 * 2**20
