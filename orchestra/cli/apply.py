"""`orchestra apply FILE... | -f FILE` and `orchestra delete -f FILE | workload|service|config|secret|volume NAME`."""
from __future__ import annotations

import os
import pathlib
import sys
import time

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.failure import CliError
from orchestra.cli.context import cli_context
from orchestra.cli.rollout import DEFAULT_TIMEOUT_S, wait_rollout
from orchestra.cli.tables import duration
from orchestra.spec import codec
from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import MAX_FILE_BYTES, load_files

POLL_S = 1.0


MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


def manifest_sources(files: tuple[str, ...]) -> list:
    """-f arguments -> what load_files takes: `-` is stdin, a directory is its manifests (sorted)."""
    out: list = []
    for f in files:
        if f == "-":
            out.append(("<stdin>", sys.stdin.buffer.read(MAX_FILE_BYTES + 1)))
        elif os.path.isdir(f):
            found = sorted(p for p in pathlib.Path(f).iterdir() if p.suffix in MANIFEST_SUFFIXES and p.is_file())
            if not found:
                raise CliError(f"{f}: directory holds no manifest (*.yaml, *.yml, *.json)")
            out += [str(p) for p in found]
        else:
            out.append(f)
    return out


def load_manifests(files: tuple[str, ...]) -> list:
    """Every document (Workload, Config, Secret, ...) of the files."""
    try:
        docs = load_files(manifest_sources(files))
    except ManifestError as e:
        raise CliError(str(e)) from None
    if not docs:
        raise CliError(f"{', '.join(files)}: no documents found (every document is empty)")
    return docs


@click.command()
@click.argument("paths", nargs=-1, metavar="[FILE]...")
@click.option("-f", "--filename", "files", multiple=True, metavar="FILE",
              help="manifest file, directory of manifests, or - for stdin (repeatable; FILE arguments "
                   "work the same)")
@click.option("--dry-run", is_flag=True, help="print what would happen and change nothing")
@click.option("-o", "--output", type=click.Choice(["json", "yaml"]), default=None,
              help="print the plane's answer (the plan, with every placement explained in full) as json/yaml")
@click.option("--no-wait", is_flag=True, help="return once the plane has stored the workloads")
@click.option("--timeout", type=click.FloatRange(min=0), default=DEFAULT_TIMEOUT_S, show_default=True,
              help="seconds to wait for the rollouts to complete")
@click.pass_context
def apply(ctx: click.Context, paths: tuple[str, ...], files: tuple[str, ...], dry_run: bool, output: str | None,
          no_wait: bool, timeout: float) -> None:
    """Create or update the workloads of manifest files, then wait until their rollouts are complete
    (new replicas Ready, old containers gone).

    FILE is a manifest, a directory of manifests, or - for stdin: `orchestra apply web.yaml`
    and `orchestra apply -f web.yaml` are the same."""
    files = files + paths
    if not files:
        raise click.UsageError("no manifest given: `orchestra apply FILE...` or `orchestra apply -f FILE`")
    if files.count("-") > 1:
        raise click.UsageError("- (stdin) may be given only once")
    workloads = load_manifests(files)   # nothing is sent unless every manifest is valid
    target = cli_context(ctx).target
    resp = target.call("Apply", pb.ApplyRequest(documents_json=[codec.to_json(w) for w in workloads],
                                                 dry_run=dry_run))
    if output:
        from orchestra.cli.output import emit
        emit(resp, output)
    else:
        for result in resp.results:
            click.echo(result_text(result, dry_run))
    if dry_run or no_wait:
        return
    echo = (lambda line: click.echo(line, err=True)) if output else click.echo   # keep stdout parseable
    deadline = time.monotonic() + timeout
    policies = {d.name: d.spec.template.restart_policy for d in workloads if d.KIND == "Workload"}
    # The workloads of the files, and those a changed config or secret rolls out: done when every
    # replica runs the new content. Other kinds are done once stored.
    for r in resp.results:
        if (r.kind or "Workload") == "Workload" and (r.workload in policies or r.cause):
            policy = policies.get(r.workload) or _restart_policy(target, r.workload)
            wait_rollout(target, r.workload, r.revision, policy, timeout, deadline, echo=echo)


def _restart_policy(target, name: str) -> str:
    from orchestra.cli.views import workload_spec
    info = target.call("DescribeWorkload", pb.DescribeRequest(name=name)).workload
    return workload_spec(info).get("spec", {}).get("template", {}).get("restartPolicy", "Always")


def result_text(result: pb.ApplyResult, dry_run: bool) -> str:
    action = {"created": "would be created", "configured": "would be configured",
              "unchanged": "unchanged"}.get(result.action, result.action) if dry_run else result.action
    kind = result.kind or "Workload"
    name = result.workload if kind == "Workload" else f"{kind.lower()}/{result.workload}"
    head = f"{name}: {action}" + (" (dry run)" if dry_run else "")
    if kind == "Service":
        return head + f" (address {result.virtual_address})"
    if kind != "Workload":
        return head + (f" (version {result.revision})" if result.new_revision and result.action != "created" else "")
    if result.new_revision and result.action != "created":
        head += f" (revision {result.revision})"
    if result.cause:
        head += f": {result.cause}"
    lines = [head]
    for p in result.placements:
        if p.node:
            lines.append(f"  {p.replica} -> {p.node}" + (f" ({p.explanation})" if p.explanation else ""))
        else:
            lines.append(f"  {p.replica}: not placed: {p.explanation or 'no node fits'}")
            for x in p.detail.rejections:      # every reason, with the nodes it holds for
                nodes = ", ".join(x.nodes) + (f" and {x.count - len(x.nodes)} more" if x.count > len(x.nodes) else "")
                lines.append(f"      {x.count} {x.reason}: {nodes}" + (f" ({x.detail})" if x.detail else ""))
    for r in result.removed_replicas:
        lines.append(f"  {r}: {'would be removed' if dry_run else 'removed'} (scale-down)")
    if result.replaced_replicas:
        verb = "would replace" if dry_run else "replaces"
        lines.append(f"  {result.rollout}; {verb} {', '.join(result.replaced_replicas)}")
    return "\n".join(lines)


@click.group(invoke_without_command=True)
@click.option("-f", "--filename", "files", multiple=True, metavar="FILE",
              help="delete what these manifests define (workloads, services, configs, secrets)")
@click.option("--volumes", "with_volumes", is_flag=True,
              help="also delete the workloads' volumes, with their data (kept otherwise)")
@click.option("--no-wait", is_flag=True, help="return without waiting for the replicas to be gone")
@click.option("--timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="seconds to wait for the replicas (and volumes) to be gone")
@click.pass_context
def delete(ctx: click.Context, files: tuple[str, ...], with_volumes: bool, no_wait: bool, timeout: float) -> None:
    """Delete workloads, services, configs, secrets or volumes: `delete -f FILE` or `delete KIND NAME...`.
    A workload's volumes and their data stay unless --volumes is given."""
    if ctx.invoked_subcommand is not None:
        if files:
            raise CliError("give either -f FILE or `KIND NAME`, not both")
        ctx.obj["delete"] = (no_wait, timeout, with_volumes)
        return
    if not files:
        raise CliError("what to delete? `orchestra delete -f FILE` or `orchestra delete KIND NAME` (KIND: workload, "
                       "service, config, secret, volume or node)")
    docs = load_manifests(files)
    delete_objects(ctx, [d.name for d in docs if d.KIND == "Workload"],
                   [(d.KIND, d.name) for d in docs if d.KIND != "Workload"], with_volumes, no_wait, timeout)


def _delete_kind(kind: str, help_text: str, volumes_flag: bool = False):
    @click.argument("names", nargs=-1, required=True)
    @click.option("--no-wait", is_flag=True, help="return without waiting for it to be gone")
    @click.option("--timeout", type=click.FloatRange(min=0), default=None, help="seconds to wait (default 120)")
    @click.pass_context
    def command(ctx: click.Context, names: tuple[str, ...], no_wait: bool, timeout: float | None,
                with_volumes: bool = False) -> None:
        parent_no_wait, parent_timeout, parent_volumes = ctx.obj.get("delete", (False, 120.0, False))
        no_wait, timeout = no_wait or parent_no_wait, timeout if timeout is not None else parent_timeout
        if kind == "Workload":
            delete_objects(ctx, list(names), [], with_volumes or parent_volumes, no_wait, timeout)
        else:
            delete_objects(ctx, [], [(kind, n) for n in names], False, no_wait, timeout)
    command.__doc__ = help_text
    if volumes_flag:
        command = click.option("--volumes", "with_volumes", is_flag=True,
                               help="also delete their volumes, with their data")(command)
    return delete.command(kind.lower())(command)


delete_workload = _delete_kind("Workload", "Delete workloads by name (their volumes stay unless --volumes).",
                               volumes_flag=True)
delete_service = _delete_kind("Service", "Delete services by name (their names stop resolving, and their routes "
                                          "leave every node).")
delete_config = _delete_kind("Config", "Delete configs by name (refused while a workload uses one).")
delete_secret = _delete_kind("Secret", "Delete secrets by name (refused while a workload uses one).")
delete_volume = _delete_kind("Volume", "Delete volumes, with their data, by name (see `orchestra get volumes`).")
delete_node = _delete_kind("Node", "Remove nodes from the cluster's records: refused while a node's agent is "
                                   "connected or replicas are bound to it.")


def delete_objects(ctx: click.Context, names: list[str], objects: list[tuple[str, str]], with_volumes: bool,
                   no_wait: bool, timeout: float) -> None:
    target = cli_context(ctx).target
    resp = target.call("Delete", pb.DeleteRequest(names=names, volumes=with_volumes,
                                                  objects=[pb.ObjectRef(kind=k, name=n) for k, n in objects]))
    for name in resp.deleted:
        click.echo(f"{name}: deleted")
    removing = [o.name for o in resp.deleted_objects if o.kind == "Volume"]
    for o in resp.deleted_objects:
        click.echo(f"{o.kind.lower()}/{o.name}: " + ("deleting (its data is removed from its node)"
                                                      if o.kind == "Volume" else "deleted"))
    if not no_wait:
        deadline = time.monotonic() + timeout
        if resp.deleted:
            wait_gone(target, list(resp.deleted), timeout)
        if removing:
            wait_volumes_gone(target, removing, max(0.0, deadline - time.monotonic()))
    missing = [f"workload {n}" for n in resp.not_found] + [f"{o.kind.lower()} {o.name}"
                                                            for o in resp.not_found_objects]
    if missing:
        raise CliError("not found: " + ", ".join(missing))


def wait_volumes_gone(target, names: list[str], timeout: float) -> None:
    """Until the agents of the volumes' nodes have removed them (the plane drops their records then)."""
    deadline = time.monotonic() + timeout
    while True:
        left = [v for v in target.call("ListVolumes", pb.ListVolumesRequest()).volumes if v.name in set(names)]
        if not left:
            for name in names:
                click.echo(f"volume/{name}: removed")
            return
        if time.monotonic() >= deadline:
            raise CliError(f"timed out after {duration(timeout)} waiting for volumes to be removed: "
                           + ", ".join(f"{v.name} on {v.node} ({v.state}; is its node Ready?)" for v in left))
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def wait_gone(target, names: list[str], timeout: float) -> None:
    """Until the plane has dropped the workloads: their agents confirmed every container is gone."""
    deadline = time.monotonic() + timeout
    while True:
        present = {w.name for w in target.call("ListWorkloads", pb.ListWorkloadsRequest()).workloads} & set(names)
        left = [r for name in sorted(present)
                for r in target.call("ListReplicas", pb.ListReplicasRequest(workload=name)).replicas]
        if not present:
            return
        if time.monotonic() >= deadline:
            raise CliError(f"timed out after {duration(timeout)} waiting for the containers of "
                           f"{', '.join(sorted(present))} to be gone: "
                           + (", ".join(f"{r.id} ({r.phase} on {r.node or 'no node'})" for r in left) or "no replicas left"))
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
