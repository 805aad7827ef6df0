"""`orchestra`: the command line of the orchestra control plane.

A command's module is imported only when that command runs (or when help lists them all), so
that a read command pays only for what it uses: `get` must not load SSH, the CA or numpy.
"""
from __future__ import annotations

import os

# gRPC's C core prints its own log lines (e.g. `ssl_transport_security.cc ... Handshake failed`)
# next to the one-line reason the CLI gives. It reads this when grpc is first imported, so it is
# set here, before any command imports grpc; GRPC_VERBOSITY=debug still works for diagnosis.
os.environ.setdefault("GRPC_VERBOSITY", "NONE")

import importlib  # noqa: E402
import sys  # noqa: E402

import click  # noqa: E402

from orchestra.cli.address import DEFAULT_SERVER, SERVER_ENV  # noqa: E402

# command name -> (module, attribute). The order is the order of `orchestra --help`.
COMMANDS: dict[str, tuple[str, str]] = {
    "apply": ("orchestra.cli.apply", "apply"),
    "delete": ("orchestra.cli.apply", "delete"),
    "get": ("orchestra.cli.get", "get"),
    "describe": ("orchestra.cli.describe", "describe"),
    "events": ("orchestra.cli.events", "events"),
    "top": ("orchestra.cli.top", "top"),
    "logs": ("orchestra.cli.logs", "logs"),
    "exec": ("orchestra.cli.exec", "exec_"),
    "move": ("orchestra.cli.move", "move"),
    "cordon": ("orchestra.cli.nodes", "cordon"),
    "uncordon": ("orchestra.cli.nodes", "uncordon"),
    "drain": ("orchestra.cli.nodes", "drain"),
    "local": ("orchestra.cli.local", "local"),
    "rollout": ("orchestra.cli.rollout", "rollout"),
    "ui": ("orchestra.ui.command", "ui"),
    "server": ("orchestra.server.command", "server"),
    "cluster": ("orchestra.lab.command", "cluster"),
    "node": ("orchestra.lab.command", "node"),
    "image": ("orchestra.cli.images", "image"),
    "token": ("orchestra.security.command", "token"),
    "certificate": ("orchestra.security.command", "certificate"),
    "bench": ("orchestra.bench.command", "bench"),
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use from a (module, attribute) table."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(n for n in sorted(self.commands) if n not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        if cmd_name not in self.lazy:
            return None
        module_name, attribute = self.lazy[cmd_name]
        command = getattr(importlib.import_module(module_name), attribute)   # errors inside are not hidden
        if not isinstance(command, click.Command):
            raise TypeError(f"{module_name}.{attribute} is not a click command")
        self.commands[cmd_name] = command
        return command


@click.group(cls=LazyGroup, lazy=COMMANDS,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--server", "server", default=None, metavar="HOST:PORT",
              help=f"control plane address (default: ${SERVER_ENV}, the client config's server, {DEFAULT_SERVER})")
@click.option("--config", "config", default=None, metavar="PATH",
              help="client config with the TLS credentials (default: $ORCHESTRA_CONFIG, ~/.orchestra/config)")
@click.version_option(package_name="orchestra", prog_name="orchestra")
@click.pass_context
def cli(ctx: click.Context, server: str | None, config: str | None) -> None:
    """orchestra: schedule container workloads onto node agents."""
    from orchestra.cli.context import install
    install(ctx, server, config)


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="orchestra")


if __name__ == "__main__":
    sys.exit(main())
