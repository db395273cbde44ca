"""IoT Streaming Lab: the package every notebook imports.

One room per concern; a room imports only the rooms below it (``lint-imports`` holds the arrows, the
contracts are in ``pyproject.toml``), and nothing imports ``cli`` or ``course``:

- ``cli``: the ``iotlab`` command, one module per command group;
- ``course``: the notebook builder, the check machinery, ``exercises.nbNN`` (checks only);
- ``bench``, ``faults``: benchmarks that print tables; faults the lessons inject;
- ``jobs``: one folder per PyFlink job (graph, reference, wiring); ``sim``: the sensor simulator and
  writers; ``lab``: the lab runtimes, health probes and doctor;
- ``kafka``, ``cassandra``, ``flink``: client factories and helpers for each system;
- ``core``: settings, paths, versions, errors, the data contract, time and window helpers, topic names.

Each room exports its public names from its ``__init__``: ``from iotlab.kafka import producer``.
"""

__version__ = "0.1.0"
