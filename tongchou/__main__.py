"""`python -m tongchou` runs the `tongchou` command."""

from tongchou.cli import main

main()
