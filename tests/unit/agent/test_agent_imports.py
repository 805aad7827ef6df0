"""The agent process loads only what it uses: a real `orchestra-agent` (already joined, so on
its steady-state path) runs until it has tried to reach the plane and is stopped with SIGTERM;
a sitecustomize hook writes the modules it had loaded when it exits."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from orchestra.security.ca import ROLE_NODE, create_ca, new_csr
from orchestra.security.credentials import NodeCredentials, store_node_credentials
from orchestra.transport import ClientTLS

ROOT = Path(__file__).resolve().parents[3]
HOOK = """import atexit, os, sys
def _dump():
    with open(os.environ["MODULES_OUT"], "w") as f:
        f.write("\\n".join(sorted(m for m, v in sys.modules.items() if v is not None)))
atexit.register(_dump)
"""
FORBIDDEN = ("numpy", "paramiko", "click", "cryptography", "bcrypt", "yaml", "charset_normalizer",
             # the Engine API is spoken by agent.runtime.engine_api, not the docker SDK (about 4.7 MiB)
             "docker", "requests", "urllib3",
             # the manifest checks: the agent needs only orchestra.spec.names
             "orchestra.spec.fields", "orchestra.spec.volumes", "orchestra.spec.manifest",
             "orchestra.cli", "orchestra.lab", "orchestra.scheduler", "orchestra.server", "orchestra.store")


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_joined_agent_imports_none_of_the_planes_or_clis_libraries(tmp_path):
    ca = create_ca()
    key_pem, csr_pem = new_csr("lean-1")
    store_node_credentials(tmp_path, NodeCredentials("lean-1", ClientTLS(ca.cert_pem, key_pem,
                                                                          ca.sign_csr(csr_pem, "lean-1", ROLE_NODE))))
    log, modules, hook = tmp_path / "agent.log", tmp_path / "modules.txt", tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HOOK)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "agent.main",
                                 "--server", f"127.0.0.1:{closed_port()}", "--name", "lean-1",
                                 "--state-dir", str(tmp_path), "--docker-host", f"unix://{tmp_path}/no.sock"],
                                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": f"{hook}:{ROOT}", "ORCHESTRA_TOKEN": "",
                                     "MODULES_OUT": str(modules)})
        try:
            deadline = time.monotonic() + 60
            while "reconnecting" not in log.read_text(errors="replace"):
                assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "the agent never tried the plane:\n" + log.read_text()[-3000:]
                time.sleep(0.2)
        finally:
            proc.terminate()
            proc.wait(20)
    assert proc.returncode == 0, log.read_text(errors="replace")[-3000:]
    imported = set(modules.read_text().split())
    assert "agent.session" in imported and "grpc" in imported      # it did get that far
    bad = sorted(m for m in imported if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))
    assert bad == [], f"the agent process imported {bad}"
