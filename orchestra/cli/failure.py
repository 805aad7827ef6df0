"""How the CLI fails: one line (or a few, for manifests) on stderr, prefixed `orchestra:`, exit 1."""
from __future__ import annotations

import click


class CliError(click.ClickException):
    exit_code = 1

    def show(self, file=None) -> None:  # noqa: ANN001 - click's signature
        click.echo(f"orchestra: {self.format_message()}", err=True)
