"""`orchestra-agent`: the node agent.

    orchestra-agent --server HOST:PORT --name NAME [--labels k=v,...] [--docker-host URL]
                    [--cpu N] [--memory SIZE] [--network host|bridge|none] [--metrics-listen HOST:PORT]

Exit status: 0 when stopped by SIGTERM/SIGINT, 2 for bad arguments, 3 when the plane refuses
the node, 4 when the plane does not authorise the agent (or it cannot join: no/bad --token).
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading

from agent.runtime import NETWORK_MODES, engine_api
from orchestra.api import types_pb2
from orchestra.spec import names
from orchestra.service_network import DEFAULT_RELAY_PORT

_RESTARTED = "ORCHESTRA_AGENT_JOINED"   # set across the restart after a join


def _ip_address(text: str) -> str:
    import ipaddress
    if not text:
        return ""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address (e.g. 192.168.121.12)") from None

def parse_taints(items: list[str]) -> list[types_pb2.Taint]:
    """`key=value:NoSchedule` or `key:NoSchedule`, each."""
    out = []
    for item in items:
        key, value, effect = names.parse_taint(item)
        out.append(types_pb2.Taint(key=key, value=value, effect=effect))
    return out


def _checked(problem):
    def check(text: str) -> str:
        why = problem(text)
        if why:
            raise argparse.ArgumentTypeError(why)
        return text
    return check


def _node_name_problem(text: str) -> str | None:
    why = names.node_name_problem(text)
    return f"{text!r} is not a node name: {why}" if why else None


def _quantity(kind: str):
    """--cpu / --memory: orchestra.spec.quantities (and decimal) is loaded only when one is given."""
    def parse(text: str):
        from orchestra.spec import quantities
        return getattr(quantities, f"parse_{kind}")(text)
    parse.__name__ = f"parse_{kind}"
    return parse


def _typed(fn):
    def parse(text: str):
        try:
            return fn(text)
        except ValueError as e:       # QuantityError is one
            raise argparse.ArgumentTypeError(str(e)) from e
    parse.__name__ = fn.__name__.lstrip("_").replace("parse_", "")
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="orchestra-agent",
                                description="The orchestra node agent: runs the plane's desired "
                                            "containers on this node's Docker engine.")
    p.add_argument("--server", required=True, type=_checked(names.addresses_problem),
                   help="control plane HOST:PORT, or the planes of one cluster: HOST:PORT,HOST:PORT,...")
    p.add_argument("--name", required=True, type=_checked(_node_name_problem), help="this node's name")
    p.add_argument("--labels", default="", type=_typed(names.parse_labels),
                   help="node labels, k=v,k2=v2")
    p.add_argument("--taint", action="append", default=[],
                   help="a taint key=value:NoSchedule (repeatable)")
    p.add_argument("--docker-host", default="unix:///var/run/docker.sock", type=_checked(engine_api.url_problem),
                   help="Docker engine URL: unix:///PATH or tcp://HOST:PORT (default unix:///var/run/docker.sock)")
    p.add_argument("--cpu", type=_typed(_quantity("cpu")), default=None,
                   help="CPU capacity to advertise (e.g. 2, 1500m; default: all CPUs)")
    p.add_argument("--memory", type=_typed(_quantity("memory")), default=None,
                   help="memory capacity to advertise (e.g. 4Gi; default: all memory)")
    p.add_argument("--network", choices=NETWORK_MODES, default="bridge",
                   help="network mode of containers (default bridge)")
    p.add_argument("--stop-timeout", type=int, default=10, metavar="SECONDS",
                   help="grace period between SIGTERM and SIGKILL for containers that carry none "
                        "of their own (the spec's terminationGracePeriodSeconds is used otherwise)")
    p.add_argument("--secrets-dir", default=None, metavar="DIR",
                   help="where containers' config and secret files are kept; must be on a tmpfs, never the "
                        "disk (default: /run/orchestra-agent/NAME-<hash of --state-dir> if /run is a tmpfs, "
                        "else the same under /dev/shm)")
    p.add_argument("--advertise-address", default=os.environ.get("ORCHESTRA_ADVERTISE_ADDRESS", ""),
                   type=_typed(_ip_address),
                   help="the address other nodes reach this one at for service traffic (default "
                        "$ORCHESTRA_ADVERTISE_ADDRESS, else the address this node reaches the plane from)")
    p.add_argument("--relay-port", type=int, default=DEFAULT_RELAY_PORT, metavar="PORT",
                   help=f"port of the relay that takes service connections for this node's replicas, on "
                        f"the advertised address (default {DEFAULT_RELAY_PORT}; 0: any free port)")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument("--token", default=os.environ.get("ORCHESTRA_TOKEN", ""),
                   help="join token (orchestra token create), needed once: the first start joins the "
                        "cluster and keeps the node's key and certificate in --state-dir (default $ORCHESTRA_TOKEN)")
    p.add_argument("--state-dir", default="~/.orchestra/agent",
                   help="where the node's key and certificate are kept (default ~/.orchestra/agent)")
    p.add_argument("--metrics-listen", default=None, metavar="HOST:PORT", type=_checked(names.address_problem),
                   help="serve Prometheus metrics over plain HTTP at http://HOST:PORT/metrics (e.g. "
                        "127.0.0.1:9465; off unless given: without it prometheus_client is not even loaded)")
    return p


def _join_once(args: argparse.Namespace, state_dir: str, real_process: bool):
    """Joins with the token (retrying while the plane is unreachable), then, in the real agent
    process, starts it afresh: the join loaded the X.509 library (cryptography, about 10 MiB
    resident), which a joined agent never needs again (orchestra.security.credentials)."""
    from orchestra.security.join import node_credentials_retrying
    creds = node_credentials_retrying(args.server, args.name, state_dir, args.token or None)
    if real_process and not os.environ.get(_RESTARTED):
        logging.getLogger("orchestra.agent").info("joined as node %s; restarting without the join's libraries",
                                                  args.name)
        os.environ[_RESTARTED] = "1"      # a second join (state dir unwritable?) does not loop
        os.execv(sys.executable, [sys.executable, "-m", "agent.main", *sys.argv[1:]])
    return creds


def main(argv: list[str] | None = None) -> int:
    if argv is None:   # the real process (tests call main(argv) in their own process)
        from agent import heap
        heap.limit_arenas()     # before the agent's threads and grpc's: see agent/heap.py
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        taints = parse_taints(args.taint)
    except ValueError as e:
        parser.error(str(e))
    if args.cpu is not None and args.cpu <= 0:
        parser.error("--cpu must be more than 0")
    if args.memory is not None and args.memory <= 0:
        parser.error("--memory must be more than 0")
    if args.stop_timeout < 0:
        parser.error("--stop-timeout must be 0 or more")
    if not 0 <= args.relay_port <= 65535:
        parser.error("--relay-port must be from 0 to 65535")
    from agent.facts import route_source
    advertise = args.advertise_address or route_source(args.server.split(",")[0].strip())
    logging.basicConfig(stream=sys.stderr, level=getattr(logging, args.log_level.upper()),
                        format="%(asctime)s %(levelname)s %(message)s")
    from orchestra.security.credentials import JoinError, stored_credentials
    state_dir = os.path.expanduser(args.state_dir)
    try:
        creds = (stored_credentials(state_dir, args.name, args.token or None)
                 or _join_once(args, state_dir, real_process=argv is None))
    except JoinError as e:
        logging.getLogger("orchestra.agent").error("cannot join the cluster: %s", e)
        return 4
    from agent.container_files import default_dir
    from agent.session import Agent, AgentConfig
    # Labels the token carries are set by the admin: they win over --labels.
    config = AgentConfig(server=args.server, name=args.name, labels={**args.labels, **creds.labels},
                         docker_host=args.docker_host, network=args.network,
                         cpu_millis=args.cpu, memory_bytes=args.memory, taints=taints,
                         stop_timeout_s=args.stop_timeout, tls=creds.tls,
                         advertise_address=advertise, relay_port=args.relay_port,
                         files_dir=args.secrets_dir or default_dir(args.name, os.path.expanduser(args.state_dir)))
    agent = Agent(config)
    if args.metrics_listen:
        from agent import metrics
        from orchestra.metrics_endpoint import EndpointError
        try:
            url = metrics.serve(args.metrics_listen, agent)
        except EndpointError as e:
            logging.getLogger("orchestra.agent").error("--metrics-listen: %s", e)
            return 2
        logging.getLogger("orchestra.agent").info("metrics: %s", url)
    # The handler runs on the main thread, which may hold a lock agent.stop() needs (the
    # session's): stop from a fresh thread instead.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: threading.Thread(target=agent.stop, daemon=True).start())
    logging.getLogger("orchestra.agent").info(
        "agent %s starting: plane %s, engine %s, network %s", config.name, config.server,
        config.docker_host, config.network)
    code = agent.run()
    logging.getLogger("orchestra.agent").info("agent %s stopped", config.name)
    return code


if __name__ == "__main__":
    sys.exit(main())
