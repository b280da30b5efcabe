"""`python -m server` is `shopguard`."""

from server.cli import main

main()
