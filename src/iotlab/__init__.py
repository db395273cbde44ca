"""IoT Streaming Lab: the package every notebook imports.

Rooms (one concern each; arrows point one way, nothing imports the CLI or the notebooks):
- ``config``, ``versions``, ``paths``: settings every other module reads.
- ``lab``: the lab runtime (native processes or docker compose) and health probes.
- ``kafka_clients``, ``flink_env``, ``cassandra_store``: client factories and helpers.
- ``sensors``: the deterministic sensor simulator.
- ``jobs``: the PyFlink jobs shared by notebooks, CLI and tests.
- ``checks``: exercise checks; ``course``: builds learner notebooks; ``doctor``, ``bench``, ``cli``.
"""

__version__ = "0.1.0"
