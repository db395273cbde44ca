"""A wheel of ``iotlab`` carries every file the package reads at run time that is not Python: the Java sources
of the SQL functions and anomaly detectors (compiled on first use by ``iotlab.flink.functions``) and the
Cassandra schema. A glob in pyproject.toml that misses a folder would ship a package that fails only later."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from iotlab.core.paths import project_root

RUNTIME_FILES = ("*.java", "*.cql")


def test_the_wheel_holds_every_java_source_and_the_schema(tmp_path: Path):
    source = project_root() / "src"
    expected = sorted(str(path.relative_to(source)) for pattern in RUNTIME_FILES
                      for path in (source / "iotlab").rglob(pattern))
    assert any(name.endswith("anomalies/SpikeAlert.java") for name in expected)  # the folder the glob once missed
    # Built from a copy of what git tracks: the working tree's egg-info (from `pip install -e`) lists every file
    # it has seen, and setuptools would take the files from there even when pyproject.toml misses them.
    checkout = tmp_path / "checkout"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=project_root(), capture_output=True, check=True)
    for name in filter(None, tracked.stdout.decode().split("\0")):
        if (project_root() / name).is_file():
            (checkout / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(project_root() / name, checkout / name)
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir",
                            str(tmp_path), str(checkout)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    [wheel] = tmp_path.glob("iotlab-*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    missing = [name for name in expected if name not in in_wheel]
    assert not missing, f"the wheel lacks {missing}: add them to [tool.setuptools.package-data] in pyproject.toml"
