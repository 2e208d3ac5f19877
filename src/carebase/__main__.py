"""Allow `python -m carebase`."""

from carebase.cli import main

main()
