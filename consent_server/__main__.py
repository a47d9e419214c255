"""`python -m consent_server` runs the `consent-server` command."""

from consent_server.cli import main

# The same name in usage lines and --version as the installed command.
main(prog_name="consent-server")
