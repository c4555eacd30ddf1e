"""``python -m tap_skipcall``: the same as the ``tap-skipcall`` command."""

from tap_skipcall.cli import main

main()
