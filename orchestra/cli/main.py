"""`orchestra`: the command line of the orchestra control plane.

Commands written here: apply, delete, get, describe, top, logs, cordon, uncordon, local.
Other owners' commands are registered when their module exists (server, cluster, node,
image, token, certificate, bench); see register_optional_commands.
"""
from __future__ import annotations

import importlib
import sys

import click

from orchestra.cli.connection import DEFAULT_SERVER, SERVER_ENV
from orchestra.cli.context import install

# (module, command attribute names). A module may instead export COMMANDS: [click.Command].
OPTIONAL_COMMANDS = (
    ("orchestra.server.command", ("server",)),
    ("orchestra.lab.command", ("cluster", "node", "image")),
    ("orchestra.security.command", ("token", "certificate")),
    ("orchestra.bench.command", ("bench",)),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--server", "server", default=None, metavar="HOST:PORT",
              help=f"control plane address (default: ${SERVER_ENV}, the client config's server, {DEFAULT_SERVER})")
@click.option("--config", "config", default=None, metavar="PATH",
              help="client config with the TLS credentials (default: $ORCHESTRA_CONFIG, ~/.orchestra/config)")
@click.version_option(package_name="orchestra", prog_name="orchestra")
@click.pass_context
def cli(ctx: click.Context, server: str | None, config: str | None) -> None:
    """orchestra: schedule container workloads onto node agents."""
    install(ctx, server, config)


def register_builtin_commands(group: click.Group) -> None:
    from orchestra.cli import apply, describe, get, local, logs, nodes, top
    for command in (apply.apply, apply.delete, get.get, describe.describe, top.top, logs.logs,
                    nodes.cordon, nodes.uncordon, local.local):
        group.add_command(command)


def register_optional_commands(group: click.Group, modules=OPTIONAL_COMMANDS) -> list[str]:
    """Add other owners' commands; a module that does not exist yet is skipped (and named in the
    result), but an error inside an existing module is not hidden."""
    missing = []
    for module_name, names in modules:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            # Only the module itself (or its package) missing means "not written yet".
            if e.name is not None and module_name.startswith(e.name):
                missing.append(module_name)
                continue
            raise
        commands = getattr(module, "COMMANDS", None)
        if commands is None:
            commands = [getattr(module, n) for n in names if isinstance(getattr(module, n, None), click.Command)]
        for command in commands:
            group.add_command(command)
    return missing


register_builtin_commands(cli)
register_optional_commands(cli)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="orchestra")


if __name__ == "__main__":
    sys.exit(main())
