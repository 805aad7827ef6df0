#!/usr/bin/env bash
# The main job on a fresh machine: install what is missing, start this machine's Docker engine
# if none runs, build the local example image, bring up a local cluster (one control plane and
# one agent on this machine's Docker), apply examples/web.yaml and show its status and usage.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

sock=/var/run/docker.sock
if ! docker -H "unix://$sock" version >/dev/null 2>&1; then
  echo "demo: starting dockerd (log: /var/log/orchestra-demo-dockerd.log)"
  # No NAT and no iptables rules: containers can be reached from this host, but nothing they
  # send is masqueraded out of it.
  nohup dockerd --ip-masq=false --iptables=false >/var/log/orchestra-demo-dockerd.log 2>&1 &
  for _ in $(seq 60); do docker -H "unix://$sock" version >/dev/null 2>&1 && break; sleep 0.5; done
  docker -H "unix://$sock" version >/dev/null
fi

bash scripts/build-busybox-image.sh "unix://$sock" local/busybox:1
orchestra local up --docker-host "unix://$sock"
orchestra apply -f examples/web.yaml
orchestra get nodes
orchestra get replicas -o wide
sleep 6   # one usage sample period, so that `top` has figures
orchestra top replicas
echo
echo "demo: done. Try: orchestra describe workload web; orchestra logs web; orchestra local down"
