"""``python -m journey``: the command line (the domain package itself imports no CLI library)."""

from tracker.cli import main

main()
