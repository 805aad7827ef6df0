"""`orchestra apply FILE... | -f FILE` and `orchestra delete -f FILE | workload NAME`."""
from __future__ import annotations

import json
import os
import pathlib
import sys
import time

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.failure import CliError
from orchestra.cli.context import cli_context
from orchestra.cli.tables import duration
from orchestra.spec.errors import ManifestError
from orchestra.spec.manifest import MAX_FILE_BYTES, load_files
from orchestra.spec.model import Workload, workload_to_dict

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


def load_manifests(files: tuple[str, ...]) -> list[Workload]:
    try:
        workloads = load_files(manifest_sources(files))
    except ManifestError as e:
        raise CliError(str(e)) from None
    if not workloads:
        raise CliError(f"{', '.join(files)}: no workloads found (every document is empty)")
    return workloads


def canonical_json(w: Workload) -> str:
    return json.dumps(workload_to_dict(w), sort_keys=True)


@click.command()
@click.argument("paths", nargs=-1, metavar="[FILE]...")
@click.option("-f", "--filename", "files", multiple=True, metavar="FILE",
              help="manifest file, directory of manifests, or - for stdin (repeatable; FILE arguments "
                   "work the same)")
@click.option("--dry-run", is_flag=True, help="print what would happen and change nothing")
@click.option("--no-wait", is_flag=True, help="return once the plane has stored the workloads")
@click.option("--timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="seconds to wait for every replica to be Running")
@click.pass_context
def apply(ctx: click.Context, paths: tuple[str, ...], files: tuple[str, ...], dry_run: bool, no_wait: bool,
          timeout: float) -> None:
    """Create or update the workloads of manifest files, then wait until they run.

    FILE is a manifest, a directory of manifests, or - for stdin: `orchestra apply web.yaml`
    and `orchestra apply -f web.yaml` are the same."""
    files = files + paths
    if not files:
        raise click.UsageError("no manifest given: `orchestra apply FILE...` or `orchestra apply -f FILE`")
    if files.count("-") > 1:
        raise click.UsageError("- (stdin) may be given only once")
    workloads = load_manifests(files)   # nothing is sent unless every manifest is valid
    target = cli_context(ctx).target
    resp = target.call("Apply", pb.ApplyRequest(workloads_json=[canonical_json(w) for w in workloads],
                                                 dry_run=dry_run))
    for result in resp.results:
        click.echo(result_text(result, dry_run))
    if dry_run or no_wait:
        return
    wait_running(target, workloads, timeout)


def result_text(result: pb.ApplyResult, dry_run: bool) -> str:
    action = {"created": "would be created", "configured": "would be configured",
              "unchanged": "unchanged"}.get(result.action, result.action) if dry_run else result.action
    lines = [f"{result.workload}: {action}" + (" (dry run)" if dry_run else "")]
    for p in result.placements:
        if p.node:
            lines.append(f"  {p.replica} -> {p.node}" + (f" ({p.explanation})" if p.explanation else ""))
        else:
            lines.append(f"  {p.replica}: not placed: {p.explanation or 'no node fits'}")
    for r in result.removed_replicas:
        lines.append(f"  {r}: {'would be removed' if dry_run else 'removed'} (scale-down)")
    return "\n".join(lines)


def replica_outcome(r, restart_policy: str) -> str:
    """running | completed (finished as its restart policy intends) | failed (will not run again) | waiting."""
    if r.phase == "Running":
        return "running"
    if r.phase == "Exited" and r.exit_code == 0 and restart_policy in ("OnFailure", "Never"):
        return "completed"
    if r.phase in ("Exited", "Failed") and restart_policy == "Never":
        return "failed"
    return "waiting"


def wait_running(target, workloads: list[Workload], timeout: float) -> None:
    """Poll until every replica of `workloads` is Running (or, for OnFailure/Never, has completed);
    a progress line whenever the counts change."""
    deadline = time.monotonic() + timeout
    shown: dict[str, str] = {}
    policies = {w.name: w.spec.template.restart_policy for w in workloads}
    while True:
        infos = {w.name: w for w in target.call("ListWorkloads", pb.ListWorkloadsRequest()).workloads}
        waiting, failed = [], []
        done = True
        for name, policy in policies.items():
            info = infos.get(name)
            if info is None:
                raise CliError(f"workload {name} disappeared while waiting (deleted meanwhile?)")
            replicas = target.call("ListReplicas", pb.ListReplicasRequest(workload=name)).replicas
            outcomes = {r.id: replica_outcome(r, policy) for r in replicas}
            running = sum(1 for o in outcomes.values() if o == "running")
            completed = sum(1 for o in outcomes.values() if o == "completed")
            line = f"{name}: {running}/{info.desired} running" + (f", {completed} completed" if completed else "")
            if shown.get(name) != line:
                click.echo(line)
                shown[name] = line
            if running + completed != info.desired or len(replicas) != info.desired:
                done = False
            failed += [r for r in replicas if outcomes[r.id] == "failed"]
            waiting += [r for r in replicas if outcomes[r.id] == "waiting"]
        if failed:
            raise CliError("\n".join(["replicas failed and will not be restarted (restartPolicy Never):"]
                                      + [_replica_line(r) for r in failed]))
        if done:
            return
        if time.monotonic() >= deadline:
            lines = [f"timed out after {duration(timeout)} waiting for replicas to be Running:"]
            lines += [_replica_line(r) for r in waiting] or ["  (replicas are still being created)"]
            raise CliError("\n".join(lines))
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def _replica_line(r) -> str:
    where = f" on {r.node}" if r.node else ""
    exit_code = f" (exit code {r.exit_code})" if r.phase == "Exited" else ""
    return f"  {r.id}: {r.phase}{exit_code}{where}" + (f": {r.reason}" if r.reason else "")


@click.group(invoke_without_command=True)
@click.option("-f", "--filename", "files", multiple=True, metavar="FILE", help="delete the workloads of these manifests")
@click.option("--no-wait", is_flag=True, help="return without waiting for the replicas to be gone")
@click.option("--timeout", type=click.FloatRange(min=0), default=120.0, show_default=True,
              help="seconds to wait for the replicas to be gone")
@click.pass_context
def delete(ctx: click.Context, files: tuple[str, ...], no_wait: bool, timeout: float) -> None:
    """Delete workloads: `delete -f FILE` or `delete workload NAME...`."""
    if ctx.invoked_subcommand is not None:
        if files:
            raise CliError("give either -f FILE or `workload NAME`, not both")
        ctx.obj["delete"] = (no_wait, timeout)
        return
    if not files:
        raise CliError("what to delete? `orchestra delete -f FILE` or `orchestra delete workload NAME`")
    delete_names(ctx, [w.name for w in load_manifests(files)], no_wait, timeout)


@delete.command("workload")
@click.argument("names", nargs=-1, required=True)
@click.option("--no-wait", is_flag=True, help="return without waiting for the replicas to be gone")
@click.option("--timeout", type=click.FloatRange(min=0), default=None, help="seconds to wait (default 120)")
@click.pass_context
def delete_workload(ctx: click.Context, names: tuple[str, ...], no_wait: bool, timeout: float | None) -> None:
    """Delete workloads by name."""
    parent_no_wait, parent_timeout = ctx.obj.get("delete", (False, 120.0))
    delete_names(ctx, list(names), no_wait or parent_no_wait, timeout if timeout is not None else parent_timeout)


def delete_names(ctx: click.Context, names: list[str], no_wait: bool, timeout: float) -> None:
    target = cli_context(ctx).target
    resp = target.call("Delete", pb.DeleteRequest(names=names))
    for name in resp.deleted:
        click.echo(f"{name}: deleted")
    if resp.deleted and not no_wait:
        wait_gone(target, list(resp.deleted), timeout)
    if resp.not_found:
        raise CliError("not found: " + ", ".join(f"workload {n}" for n in resp.not_found))


def wait_gone(target, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        left = [r for name in names
                for r in target.call("ListReplicas", pb.ListReplicasRequest(workload=name)).replicas]
        if not left:
            return
        if time.monotonic() >= deadline:
            raise CliError(f"timed out after {duration(timeout)} waiting for replicas to be removed: "
                           + ", ".join(f"{r.id} ({r.phase})" for r in left))
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
