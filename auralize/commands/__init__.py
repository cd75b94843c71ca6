"""The subcommands of ``auralize``, a module per concern; :mod:`auralize.cli` registers them on its group.

Each command parses, calls the Python API and prints; none writes a file itself.
"""
