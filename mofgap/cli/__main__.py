"""``python -m mofgap.cli``: the same as the ``mofgap`` command."""

from mofgap.cli import main

main()
