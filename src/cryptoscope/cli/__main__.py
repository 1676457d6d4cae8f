"""`python -m cryptoscope.cli`: the same entry point as the installed `cryptoscope` command."""

from cryptoscope.cli import main

main()
