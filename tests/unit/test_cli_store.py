"""`iotlab store`: a bad keyspace name is refused in one line, before any connection is tried."""

from click.testing import CliRunner

from iotlab.cli import main


def test_a_bad_keyspace_name_gets_one_line_and_exit_1():
    result = CliRunner().invoke(main, ["store", "create", "--keyspace", "Bad-Name"])
    assert result.exit_code == 1
    assert "not a keyspace name" in result.output and "pick a name like" in result.output
