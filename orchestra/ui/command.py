"""`orchestra ui [--listen 127.0.0.1:8765] [--open]`: a live web view of the cluster, served on this
machine with the user's own credentials (orchestra/ui/server.py). Imported only when it runs."""
from __future__ import annotations

import signal
import threading

import click

from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError
from orchestra.spec.names import address_problem

DEFAULT_LISTEN = "127.0.0.1:8765"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@click.command()
@click.option("--listen", default=DEFAULT_LISTEN, show_default=True, metavar="HOST:PORT",
              help="where to serve the page; anyone who can reach it reads the cluster with your credentials")
@click.option("--open", "open_browser", is_flag=True, help="open the page in the default web browser")
@click.pass_context
def ui(ctx: click.Context, listen: str, open_browser: bool) -> None:
    """Serve a live web view of the cluster: nodes as VMs with their containers, workloads and
    rollouts, placement explanations, logs and events (read-only; Ctrl-C stops)."""
    problem = address_problem(listen)
    if problem:
        raise click.BadParameter(problem, param_hint="--listen")
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    target = cli_context(ctx).target
    from orchestra.api import orchestra_pb2 as pb
    target.call("ListNodes", pb.ListNodesRequest())      # the plane answers us, or one line says why not

    from orchestra.ui.feed import ClusterFeed
    from orchestra.ui.server import UiServer
    feed = ClusterFeed(target)
    try:
        server = UiServer(host, int(port), target, feed)
    except OSError as exc:
        raise CliError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    feed.start()
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{server.port}/"
    click.echo(f"orchestra ui: {url} (plane {target.address}; Ctrl-C stops)")
    if host not in LOOPBACK:
        click.echo(f"orchestra ui: warning: {listen} is reachable from other machines, and whoever reaches it "
                   f"reads the cluster with your credentials", err=True)
    if open_browser:
        import webbrowser
        webbrowser.open(url)
    # SIGTERM ends it like Ctrl-C; shutdown() must come from another thread than serve_forever's.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown, daemon=True).start())
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        feed.stop()
        server.server_close()
