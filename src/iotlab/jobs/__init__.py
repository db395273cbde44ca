"""PyFlink jobs shared by the notebooks, the CLI and the tests."""
