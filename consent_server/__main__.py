"""`python -m consent_server` runs the `consent-server` command."""

from consent_server.cli import main

main()
