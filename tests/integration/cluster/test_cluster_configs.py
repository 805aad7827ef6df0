"""Issue 12, configs and secrets: a config's entries as files and variables inside the container;
a secret as a file and a variable inside the container and nowhere in clear (not in the plane's
store files, not in any CLI output, event or log, not on the node's disk); rotating a secret
rolls the workload out without an outage; bad references are refused with nothing stored."""
from __future__ import annotations

import base64
import json
import secrets
import sqlite3
import textwrap
import threading
import time
from pathlib import Path

from test_cluster_volumes import container_of, run


def config(name: str = "web-config", text: str = "listen 8080\n") -> str:
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Config
        metadata: {{name: {name}}}
        data:
          app.conf: {json.dumps(text)}
          mode: fast
        """)


def secret(value: bytes, name: str = "db") -> str:
    # Base64 under data, as Kubernetes: any bytes, with no YAML quoting to get wrong.
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Secret
        metadata: {{name: {name}}}
        data: {{password: {base64.b64encode(value).decode()}}}
        """)


def consumer(name: str = "web", replicas: int = 1, readiness: str = "", with_secret: bool = True) -> str:
    if with_secret:
        volumes = """
              - {name: creds, secret: {secretName: db}}"""
        mounts = """
              - {name: creds, mountPath: /run/secrets/db}"""
        env = """
            env:
              DB_PASSWORD: {valueFrom: {secretKeyRef: {name: db, key: password}}}
              MODE: {valueFrom: {configKeyRef: {name: web-config, key: mode}}}"""
    else:
        volumes = mounts = ""
        env = """
            envFrom: [{configRef: {name: web-config}, prefix: CFG_}]"""
    return textwrap.dedent(f"""\
        apiVersion: orchestra/v1
        kind: Workload
        metadata: {{name: {name}}}
        spec:
          replicas: {replicas}
          template:
            image: local/busybox:1
            command: [sleep, "3600"]
            resources: {{cpu: 100m, memory: 32Mi}}
            volumes:
              - {{name: conf, config: {{name: web-config, items: [{{key: app.conf, path: conf/app.conf}}]}}}}{volumes}
            volumeMounts:
              - {{name: conf, mountPath: /etc/web}}{mounts}{env}
        """) + readiness


JOB_WITH_VOLUME = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: batch}
spec:
  mode: job
  template:
    image: local/busybox:1
    command: [sh, -c, "true"]
    volumes: [{name: conf, config: {name: web-config}}, {name: scratch}]
    volumeMounts: [{name: conf, mountPath: /etc/batch}, {name: scratch, mountPath: /scratch}]
"""

FRONT = """\
apiVersion: orchestra/v1
kind: Workload
metadata: {name: front, labels: {app: front}}
spec:
  replicas: 0
  template: {image: local/busybox:1, command: [sleep, "3600"]}
---
apiVersion: orchestra/v1
kind: Service
metadata: {name: front}
spec: {selector: {app: front}, ports: [{port: 80, targetPort: 8080}]}
"""


def main_process_env(container) -> dict[str, str]:
    """The environment of the container's command (not of an exec, which gets only Docker's Env)."""
    out = run(container, "sh", "-c", "for p in /proc/[0-9]*; do [ \"$(cat $p/comm)\" = sleep ] && cat $p/environ; done; true")
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def test_config_files_and_variables_inside_the_container(cluster):
    cluster.start_server()
    cluster.add_nodes(1)
    cluster.apply(config(text="listen 8080\nworkers 2\n") + "---\n" + consumer(with_secret=False))
    node = cluster.wait_running("web", 1)[0]["node"]
    c = container_of(cluster, "web-0", node)
    assert run(c, "cat", "/etc/web/conf/app.conf") == "listen 8080\nworkers 2\n"
    assert run(c, "ls", "/etc/web/conf") == "app.conf\n"       # items: only the key asked for
    env = main_process_env(c)
    assert env["CFG_mode"] == "fast" and env["CFG_app.conf"] == "listen 8080\nworkers 2\n"
    assert "CFG_mode=fast" in c.attrs["Config"]["Env"]           # a config's variables are plain env
    # Read-only: the container cannot change what its config says.
    code, _ = c.exec_run(["sh", "-c", "echo x > /etc/web/conf/app.conf"])
    assert code != 0
    listed = cluster.cli_json("get", "configs")["configs"][0]
    assert listed["data"]["mode"] == "fast" and listed["used_by"] == ["web"]


def test_secret_as_file_and_variable_and_nowhere_in_clear(cluster):
    value = f"p'a\"s$s`{secrets.token_hex(12)}`\\ x".encode()
    cluster.start_server()
    cluster.add_nodes(2)
    apply_out = cluster.apply(config() + "---\n" + secret(value) + "---\n" + consumer(replicas=1))
    node = cluster.wait_running("web", 1)[0]["node"]
    other = next(n for n in cluster.agents if n != node)
    c = container_of(cluster, "web-0", node)

    # Inside the container: the file, and the variable of its command.
    code, out = c.exec_run(["cat", "/run/secrets/db/password"])
    assert code == 0 and out == value
    env = main_process_env(c)
    assert env["DB_PASSWORD"] == value.decode() and env["MODE"] == "fast"
    mounts = {m["Destination"]: m for m in c.attrs["Mounts"]}
    assert not mounts["/run/secrets/db"]["RW"]

    # Never in the container's stored config, nor anywhere on either node's disk.
    assert not any(e.startswith("DB_PASSWORD=") for e in c.attrs["Config"]["Env"])
    for n in cluster.agents:
        assert_not_in_files(cluster.engines[n].root, value, f"{n}'s engine")
        assert_not_in_files(cluster.workdir / f"agent-state-{n}", value, f"{n}'s agent state")
    assert not list((cluster.secrets_dir / other).glob("*/v-creds")), "the secret went to a node that does not use it"

    # Not in the plane's store: its SQLite files read raw (WAL included), nor the SQL view of them.
    files = [p for p in cluster.data_dir.iterdir() if p.name.startswith("state.db")]
    assert any(p.name == "state.db-wal" for p in files)
    for p in files:
        assert_not_in_bytes(p.read_bytes(), value, str(p))
    with sqlite3.connect(cluster.data_dir / "state.db") as db:
        rows = db.execute("SELECT data FROM records").fetchall()
    assert_not_in_bytes("".join(r[0] for r in rows).encode(), value, "the store's records")
    assert (cluster.data_dir / "pki" / "secrets.key").stat().st_mode & 0o777 == 0o600

    # Not in anything the CLI shows, nor in events or logs.
    outputs = [apply_out.stdout + apply_out.stderr]
    for args in (("get", "secrets"), ("get", "secrets", "-o", "wide"), ("get", "secrets", "-o", "json"),
                 ("get", "secret", "db", "-o", "yaml"), ("describe", "secret", "db"),
                 ("describe", "workload", "web"), ("describe", "replica", "web-0"),
                 ("get", "workloads", "-o", "json"), ("get", "replicas", "-o", "yaml"), ("get", "all", "-o", "wide"),
                 ("rollout", "history", "web"), ("events",), ("events", "-o", "json"), ("logs", "web")):
        res = cluster.cli(*args)
        outputs.append(res.stdout + res.stderr)
    described = cluster.cli("describe", "secret", "db").stdout
    assert f"password ({len(value)} bytes)" in described
    assert [line.split() for line in described.splitlines() if line.startswith("Used by:")] == [["Used", "by:", "web"]]
    assert json.loads(cluster.cli("get", "secrets", "-o", "json").stdout)["secrets"][0]["sizes"] == \
        {"password": len(value)}
    outputs.append(cluster.logs())
    for text in outputs:
        assert_not_in_bytes(text.encode(), value, "CLI output, events or logs")


def assert_not_in_bytes(data: bytes, value: bytes, where: str) -> None:
    for form in (value, base64.b64encode(value), json.dumps(value.decode())[1:-1].encode()):
        assert form not in data, f"the secret is readable in {where}"


def assert_not_in_files(root: Path, value: bytes, where: str) -> None:
    for p in root.rglob("*"):
        if p.is_file() and not p.is_symlink():
            try:
                data = p.read_bytes()
            except OSError:
                continue      # sockets, vanished files
            assert_not_in_bytes(data, value, f"{where}: {p}")


def test_rotating_a_secret_rolls_the_workload_without_an_outage(cluster):
    readiness = textwrap.indent(textwrap.dedent("""\
        readinessProbe: {exec: {command: [cat, /run/secrets/db/password]}, periodSeconds: 1}
        """), "    ")
    old, new = secrets.token_hex(8).encode(), secrets.token_hex(8).encode()
    cluster.start_server()
    cluster.add_nodes(2)
    cluster.apply(config() + "---\n" + secret(old) + "---\n" + consumer(replicas=2, readiness=readiness))
    cluster.wait_running("web", 2)

    samples: list[int] = []
    done = threading.Event()

    def sample():
        while not done.is_set():
            reps = cluster.replicas("web")
            samples.append(sum(1 for r in reps if r.get("ready") and r["phase"] == "Running"))
            time.sleep(0.2)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.monotonic()
    out = cluster.apply(secret(new)).stdout          # only the secret: its workload rolls on its own
    took = time.monotonic() - started
    done.set()
    sampler.join(10)
    assert "secret/db: configured (version 2)" in out
    assert "web: configured (revision 2): secret db changed" in out
    assert samples and min(samples) >= 2, f"fewer than 2 replicas ready during the rollout: {samples}"
    print(f"secret change to every replica using it: {took:.1f} s")

    reps = cluster.wait_running("web", 2)
    assert {r["revision"] for r in reps} == {2}
    for r in reps:
        c = container_of(cluster, r["id"], r["node"])
        assert run(c, "cat", "/run/secrets/db/password").encode() == new
        assert main_process_env(c)["DB_PASSWORD"].encode() == new
    history = cluster.cli("rollout", "history", "web").stdout
    assert "secret db changed" in history


def test_bad_references_are_refused_and_nothing_is_stored(cluster):
    cluster.start_server()
    cases = [
        (consumer(), "spec.template.volumes[0].config.name: config 'web-config' does not exist"),
        (config() + "---\n" + consumer(), "secret 'db' does not exist"),
        (config().replace("app.conf:", "other.conf:") + "---\n" + secret(b"x") + "---\n" + consumer(),
         "key 'app.conf' is not in config web-config (its keys: mode, other.conf)"),
        (config() + "---\n" + secret(b"x") + "---\n" + consumer().replace("/run/secrets/db", "/etc/web"),
         "volumeMounts[1].mountPath: /etc/web is also the mount path of spec.template.volumeMounts[0]"),
        (config() + "---\n" + secret(b"x") + "---\n" +
         consumer().replace("DB_PASSWORD: {valueFrom: {secretKeyRef: {name: db, key: password}}}",
                            "DB_PASSWORD: {valueFrom: {secretKeyRef: {name: db, key: nope}}}"),
         "spec.template.env.DB_PASSWORD.valueFrom.secretKeyRef.key: key 'nope' is not in secret db (its keys: "
         "password)"),
        # With variables from secrets the container starts through /bin/sh: every variable needs a shell name.
        (config() + "---\n" + secret(b"x") + "---\n" + consumer() + "    envFrom: [{configRef: {name: web-config}}]\n",
         "key 'app.conf' of config web-config makes the variable 'app.conf', which is not a shell variable name"),
        # A job's failed replica is replaced by one of a new index: a volume of its own would start empty.
        (config() + "---\n" + JOB_WITH_VOLUME,
         'spec.template.volumes[1]: volume "scratch" has no config or secret: a volume kept per replica is for '
         'replicated workloads only'),
    ]
    for manifest, expected in cases:
        res = cluster.apply(manifest, check=False)
        assert res.returncode != 0, res.stdout
        assert expected in res.stderr, res.stderr
        for kind in ("workloads", "configs", "secrets"):
            assert cluster.cli_json("get", kind)[kind] == [], (kind, expected)

    # A config in use cannot be deleted; nothing else goes with the refused command either.
    cluster.apply(config() + "---\n" + secret(b"x") + "---\n" + consumer(replicas=0))
    res = cluster.cli("delete", "config", "web-config", check=False)
    assert res.returncode != 0 and "config web-config is used by workload web" in res.stderr
    assert [c["name"] for c in cluster.cli_json("get", "configs")["configs"]] == ["web-config"]

    # delete -f takes every kind the file defines, services too.
    path = cluster.workdir / "all.yaml"
    path.write_text(config() + "---\n" + secret(b"x") + "---\n" + consumer(replicas=0) + "---\n" + FRONT)
    cluster.cli("apply", "-f", str(path))
    out = cluster.cli("delete", "-f", str(path)).stdout
    assert "web: deleted" in out and "config/web-config: deleted" in out and "secret/db: deleted" in out
    assert "front: deleted" in out and "service/front: deleted" in out
    for kind in ("workloads", "configs", "secrets", "services"):
        assert cluster.cli_json("get", kind)[kind] == []
