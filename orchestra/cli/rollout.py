"""`orchestra rollout status|history|undo|pause|resume WORKLOAD`, and the wait for a rollout that
`apply` does: done only when the new revision's replicas are up (Ready, or finished as their
restart policy intends) and every old or retired container is gone from the nodes."""
from __future__ import annotations

import time

import click

from orchestra.api import orchestra_pb2 as pb
from orchestra.cli.context import cli_context
from orchestra.cli.failure import CliError
from orchestra.cli.tables import age, duration, table

POLL_S = 1.0
DEFAULT_TIMEOUT_S = 300.0


def replica_outcome(r, restart_policy: str) -> str:
    """ready | completed (finished as its restart policy intends) | failed (will not run again) | waiting."""
    if r.phase == "Running" and r.ready:
        return "ready"
    if r.phase == "Exited" and r.exit_code == 0 and restart_policy in ("OnFailure", "Never"):
        return "completed"
    if r.phase in ("Exited", "Failed") and restart_policy == "Never":
        return "failed"
    return "waiting"


def _rolled_back(target, name: str, revision: int) -> str:
    """Why `revision` of `name` was rolled back automatically, or ""."""
    revs = target.call("ListRevisions", pb.RolloutRequest(workload=name)).revisions
    for rev in revs:
        if rev.number > revision and rev.origin.startswith("automatic rollback"):
            return rev.change
    return ""


def progress_line(name: str, revision: int, info: pb.WorkloadInfo, replicas, completed: int) -> str:
    terminating = sum(1 for r in replicas if r.phase == "Terminating")
    old = info.rollout.old
    line = (f"{name}: revision {revision}: {info.up_to_date}/{info.desired} updated, "
            f"{info.ready}/{info.desired} ready")
    if completed:
        line += f", {completed} completed"
    if old:
        line += f", {old} old"
    if terminating:
        line += f", {terminating} stopping"
    return line


def wait_rollout(target, name: str, revision: int, restart_policy: str, timeout: float,
                 deadline: float | None = None, echo=click.echo) -> None:
    """Until revision `revision` of `name` is fully rolled out; CliError when it failed, was rolled
    back, or the time is up (`timeout` seconds, or at `deadline` on the monotonic clock when several
    rollouts share one timeout). A progress line whenever the counts change."""
    deadline = time.monotonic() + timeout if deadline is None else deadline
    shown = ""
    while True:
        try:
            info = target.call("DescribeWorkload", pb.DescribeRequest(name=name))
        except CliError as e:
            raise CliError(f"workload {name} disappeared while waiting (deleted meanwhile?): {e}") from None
        w, replicas = info.workload, list(info.replicas)
        if w.mode == "job":
            line = f"{name}: {w.rollout.message or w.rollout.state}"
            if line != shown:
                echo(line)
                shown = line
            if w.rollout.state == "Complete":
                return
            if w.rollout.state == "Failed":
                raise CliError(f"job {name} failed: {w.rollout.message}")
            _unschedulable(name, [r for r in replicas if r.phase == "Pending"])
            if time.monotonic() >= deadline:
                raise CliError(f"timed out after {duration(timeout)} waiting for job {name}: {w.rollout.message}")
            time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
            continue
        if w.revision != revision:
            why = _rolled_back(target, name, revision)
            if why:
                raise CliError(f"{name}: revision {revision} was rolled back: {why}")
            echo(f"{name}: revision {revision} was replaced by revision {w.revision} meanwhile; not waiting for it")
            return
        current = [r for r in replicas if r.revision == revision and r.phase != "Terminating"]
        outcomes = {r.id: replica_outcome(r, restart_policy) for r in current}
        completed = sum(1 for o in outcomes.values() if o == "completed")
        line = progress_line(name, revision, w, replicas, completed)
        if line != shown:
            echo(line)
            shown = line
        failed = [r for r in current if outcomes[r.id] == "failed"]
        if failed:
            raise CliError("\n".join([f"{name}: replicas failed and will not be restarted (restartPolicy Never):"]
                                     + [replica_line(r) for r in failed]))
        if w.rollout.state == "Failed":
            raise CliError(f"{name}: {w.rollout.message}")
        _unschedulable(name, [r for r in current if r.phase == "Pending"])
        others = [r for r in replicas if r.revision != revision or r.phase == "Terminating"]
        if w.rollout.state == "Complete" or (
                len(current) == w.desired and not others and all(o in ("ready", "completed") for o in outcomes.values())):
            return
        if time.monotonic() >= deadline:
            waiting = [r for r in current if outcomes[r.id] == "waiting"] + others
            lines = [f"timed out after {duration(timeout)} waiting for the rollout of {name}: {w.rollout.message}"]
            lines += [replica_line(r) for r in waiting]
            raise CliError("\n".join(lines))
        time.sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))


def _unschedulable(name: str, pending) -> None:
    """Waiting is pointless when no node could ever take a replica as the cluster is: say why, now."""
    stuck = [r for r in pending if r.placement.unschedulable]
    if stuck:
        r = stuck[0]
        raise CliError(f"{name}: {r.id} cannot be placed on any node: {r.placement.summary} (change the manifest "
                       f"or add a node that fits; the workload stays stored and is placed when one can take it)")


def replica_line(r) -> str:
    where = f" on {r.node}" if r.node else ""
    exit_code = f" (exit code {r.exit_code})" if r.phase == "Exited" else ""
    return f"  {r.id}: {r.phase}{exit_code}{where}" + (f": {r.reason}" if r.reason else "")


def _policy(info: pb.WorkloadInfo) -> str:
    from orchestra.cli.views import workload_spec
    return workload_spec(info).get("spec", {}).get("template", {}).get("restartPolicy", "Always")


@click.group()
def rollout() -> None:
    """Follow, inspect, undo, pause and resume rolling updates."""


@rollout.command("status")
@click.argument("workload")
@click.option("--timeout", type=click.FloatRange(min=0), default=DEFAULT_TIMEOUT_S, show_default=True,
              help="seconds to wait")
@click.option("--no-wait", is_flag=True, help="print the state and return")
@click.pass_context
def status(ctx: click.Context, workload: str, timeout: float, no_wait: bool) -> None:
    """Wait for the current rollout: exit 0 when complete, non-zero when it failed or was rolled back."""
    target = cli_context(ctx).target
    info = target.call("DescribeWorkload", pb.DescribeRequest(name=workload)).workload
    if no_wait:
        click.echo(f"{workload}: revision {info.revision}: {info.rollout.state}: {info.rollout.message}")
        if info.rollout.state == "Failed":
            raise CliError(f"{workload}: rollout failed")
        return
    current = [r for r in target.call("ListRevisions", pb.RolloutRequest(workload=workload)).revisions
               if r.number == info.revision]
    wait_rollout(target, workload, info.revision, _policy(info), timeout)
    if current and current[0].origin.startswith("automatic rollback"):
        raise CliError(f"{workload}: revision {info.revision} is an {current[0].change}")
    click.echo(f"{workload}: rollout to revision {info.revision} complete")


@rollout.command("history")
@click.argument("workload")
@click.pass_context
def history(ctx: click.Context, workload: str) -> None:
    """The workload's revisions, oldest first, with what each changed."""
    resp = cli_context(ctx).target.call("ListRevisions", pb.RolloutRequest(workload=workload))
    rows = [[str(r.number) + (" (current)" if r.number == resp.current else ""), age(r.created_at_ms), r.origin,
             r.change] for r in resp.revisions]
    click.echo(table(("revision", "age", "origin", "change"), rows))


@rollout.command("undo")
@click.argument("workload")
@click.option("--to-revision", type=click.IntRange(min=1), default=None, help="default: the revision before")
@click.option("--no-wait", is_flag=True, help="return once the plane has stored it")
@click.option("--timeout", type=click.FloatRange(min=0), default=DEFAULT_TIMEOUT_S, show_default=True)
@click.pass_context
def undo(ctx: click.Context, workload: str, to_revision: int | None, no_wait: bool, timeout: float) -> None:
    """Apply an older revision again, as a new revision."""
    target = cli_context(ctx).target
    res = target.call("UndoRollout", pb.UndoRolloutRequest(workload=workload, to_revision=to_revision or 0))
    click.echo(f"{workload}: rolled back to the template of an older revision, as revision {res.revision}"
               + (f" ({res.rollout})" if res.rollout else ""))
    if not no_wait:
        info = target.call("DescribeWorkload", pb.DescribeRequest(name=workload)).workload
        wait_rollout(target, workload, res.revision, _policy(info), timeout)


def _pause(ctx: click.Context, workload: str, paused: bool) -> None:
    st = cli_context(ctx).target.call("PauseRollout", pb.PauseRolloutRequest(workload=workload, paused=paused))
    click.echo(f"{workload}: rollout {'paused' if paused else 'resumed'} at revision {st.revision} ({st.message})")


@rollout.command("pause")
@click.argument("workload")
@click.pass_context
def pause(ctx: click.Context, workload: str) -> None:
    """Hold the rollout where it is: no new replica created, no old one retired."""
    _pause(ctx, workload, True)


@rollout.command("resume")
@click.argument("workload")
@click.pass_context
def resume(ctx: click.Context, workload: str) -> None:
    """Let a paused rollout go on."""
    _pause(ctx, workload, False)
