"""What every command of a CLI run shares: the global options and the connection, made on first use."""
from __future__ import annotations

import click

from orchestra.cli.connection import Target, resolve


class Context:
    def __init__(self, server: str | None, config: str | None) -> None:
        self.server = server
        self.config = config
        self._target: Target | None = None

    @property
    def target(self) -> Target:
        if self._target is None:
            self._target = resolve(self.server, self.config)
        return self._target

    def close(self) -> None:
        if self._target is not None:
            self._target.close()


def install(ctx: click.Context, server: str | None, config: str | None) -> Context:
    """Set ctx.obj; a dict because other owners' commands read the global options as ctx.obj["config"]."""
    c = Context(server, config)
    ctx.obj = {"server": server, "config": config, "cli": c}
    ctx.call_on_close(c.close)
    return c


def cli_context(ctx: click.Context) -> Context:
    """The Context of this run, from any sub-command (made if a command runs on its own, as in tests)."""
    root = ctx.find_root()
    if not isinstance(root.obj, dict) or "cli" not in root.obj:
        return install(root, None, None)
    return root.obj["cli"]
