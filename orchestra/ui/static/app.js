// orchestra ui: the page. Plain JavaScript, no build step, nothing loaded from elsewhere.
//
// The server (orchestra/ui/server.py) streams server-sent events: `state` (every node, workload
// and replica, re-listed whenever the plane records an event), `events` (the plane's event stream)
// and `status` (whether it can reach the plane). Each page is a view with mount() (build it, once
// per visit) and update() (redraw what depends on the state, on every change), so that a live
// change never reloads the page, loses the scroll position or the text in a filter box.
"use strict";

const S = {
  state: null,            // {plane, listed_at_ms, nodes, workloads, replicas}
  events: [],             // oldest first
  live: false,
  status: "connecting",
  view: null,             // the mounted view
};

// -- small helpers -------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "style") Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

function clear(el, ...children) { el.replaceChildren(...children.flat(Infinity).filter((c) => c)); return el; }

// Redraw `el` with `children`, keeping every element that did not change (and so the reader's
// text selection, hover, and the elements a click is aimed at): elements of the same tag and the
// same identity (data-node, data-replica, ...) are updated in place, the rest replaced.
const KEYS = ["data-node", "data-replica", "data-workload", "data-revision", "data-event", "data-probe", "data-rejection"];
function sameKind(a, b) {
  return a.nodeType === 1 && b.nodeType === 1 && a.tagName === b.tagName && KEYS.every((k) => a.getAttribute(k) === b.getAttribute(k));
}
function morph(el, ...children) {
  const next = children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false)
    .map((c) => (c instanceof Node ? c : document.createTextNode(String(c))));
  const old = [...el.childNodes];
  next.forEach((n, i) => {
    const o = old[i];
    if (!o) el.append(n);
    else if (o.isEqualNode(n)) return;
    else if (sameKind(o, n)) {
      for (const a of [...o.attributes]) if (!n.hasAttribute(a.name)) o.removeAttribute(a.name);
      for (const a of [...n.attributes]) if (o.getAttribute(a.name) !== a.value) o.setAttribute(a.name, a.value);
      morph(o, [...n.childNodes]);
    } else el.replaceChild(n, o);
  });
  for (const o of old.slice(next.length)) o.remove();
  return el;
}

function cpu(millis) {
  millis = Number(millis || 0);
  if (millis === 0) return "0";
  return millis % 1000 === 0 ? String(millis / 1000) : millis < 1000 ? `${millis}m` : (millis / 1000).toFixed(2);
}

function mem(bytes) {
  bytes = Number(bytes || 0);
  const units = ["", "Ki", "Mi", "Gi", "Ti"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i++; }
  const n = bytes >= 100 || Number.isInteger(bytes) ? Math.round(bytes) : bytes.toFixed(1);
  return `${n}${units[i]}`;
}

function age(ms) {
  ms = Number(ms || 0);
  if (!ms) return "-";
  const s = Math.max(0, (Date.now() - ms) / 1000);
  if (s < 60) return `${Math.floor(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function cpuText(cores) { return cpu(Math.round(Number(cores) * 1000)); }
function quantity(v, format) {
  if (v === undefined || v === null || v === "") return "default";
  return /^\d+(\.\d+)?$/.test(String(v)) ? format(Number(v)) : String(v);     // canonical form: a plain number of bytes
}
function shellWord(w) { return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`; }

function clock(ms) { return ms ? new Date(Number(ms)).toLocaleTimeString() : "-"; }
function plural(n, word) { n = Number(n || 0); return `${n} ${word}${n === 1 ? "" : word.endsWith("s") ? "es" : "s"}`; }
function pct(part, whole) { return whole > 0 ? Math.min(100, (100 * part) / whole) : 0; }
function link(href, text, attrs) { return h("a", { href, ...(attrs || {}) }, text); }
function replicaLink(id) { return link(`#/replica/${encodeURIComponent(id)}`, id); }
function nodeLink(name) { return name ? link(`#/node/${encodeURIComponent(name)}`, name) : h("span", { class: "muted" }, "none"); }
function workloadLink(name) { return link(`#/workload/${encodeURIComponent(name)}`, name); }

function phaseBadge(phase, ready) {
  return h("span", { class: `phase phase-${(phase || "unknown").toLowerCase()}` }, phase || "?",
    ready ? h("span", { class: "ready-dot", title: "ready" }) : null);
}

function fields(pairs) {
  return h("dl", { class: "fields" }, pairs.filter((p) => p).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

function table(headers, rows, attrs) {
  return h("table", attrs || {},
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", {}, x)))),
    h("tbody", {}, rows));
}

function meter(label, parts, text, title) {
  // parts: [{value 0-100, class}]
  return h("div", { class: "meter", title: title || "" },
    h("span", { class: "meter-label" }, label),
    h("span", { class: "meter-bar" }, parts.map((p) => h("span", { class: `meter-fill ${p.class}`, style: { width: `${p.value}%` } }))),
    h("span", { class: "meter-text" }, text));
}

async function getJSON(url) {
  const resp = await fetch(url, { headers: { Accept: "application/json" } });
  const data = await resp.json().catch(() => ({ error: `${resp.status} ${resp.statusText}` }));
  if (!resp.ok) throw new Error(data.error || `${resp.status}`);
  return data;
}

// -- what the state tells ----------------------------------------------------------------------

function workloadsByName() { return new Map((S.state ? S.state.workloads : []).map((w) => [w.name, w])); }
function spec(w) { return (w && w.manifest && w.manifest.spec) || {}; }

function tenantsOn(node, replicas, workloads) {
  const t = new Set();
  for (const r of replicas) if (r.node === node) t.add(spec(workloads.get(r.workload)).tenant || "");
  return [...t];
}

function eventRow(e) {
  return h("tr", { class: e.type === "Warning" ? "warning" : "", "data-event": e.id },
    h("td", { class: "nowrap", title: new Date(Number(e.time_ms)).toString() }, clock(e.time_ms)),
    h("td", {}, e.type), h("td", {}, e.reason),
    h("td", { class: "nowrap" }, objectLink(e.kind, e.object)),
    h("td", { class: "message" }, e.message));
}

function objectLink(kind, name) {
  if (kind === "Replica") return [kind.toLowerCase(), "/", replicaLink(name)];
  if (kind === "Node") return [kind.toLowerCase(), "/", nodeLink(name)];
  if (kind === "Workload") return [kind.toLowerCase(), "/", workloadLink(name)];
  return `${(kind || "").toLowerCase()}/${name}`;
}

function eventsTable(events, empty) {
  if (!events.length) return h("p", { class: "muted" }, empty || "No events.");
  return table(["time", "type", "reason", "object", "message"], events.slice().reverse().map(eventRow),
    { class: "events" });
}

// -- the views ---------------------------------------------------------------------------------

const views = {};

views.topology = {
  mount(root) {
    this.root = root;
    clear(root,
      h("div", { class: "legend" },
        h("span", {}, "Each box is a node (its VM) with the containers it runs inside. Blue bars: what the replicas placed there request of the node; green: what the machine uses; the strip: each container's share of the node's memory."),
        ["Running", "Starting", "Scheduled", "BackOff", "Failed", "Exited", "Terminating", "Pending"].map((p) => phaseBadge(p)),
        h("span", {}, h("span", { class: "ready-dot" }), " ready")),
      this.grid = h("div", { class: "cluster", id: "topology" }));
  },
  update() {
    const st = S.state;
    if (!st) return;
    const workloads = workloadsByName();
    const cards = st.nodes.map((n) => this.node(n, st.replicas.filter((r) => r.node === n.name), workloads));
    const pending = st.replicas.filter((r) => !r.node);
    if (pending.length) cards.push(this.pending(pending));
    if (!cards.length) cards.push(h("p", { class: "muted" }, "No nodes have joined yet: start an agent (orchestra-agent --server ...)."));
    morph(this.grid, cards);
  },
  node(n, replicas, workloads) {
    const cap = n.capacity || {}, alloc = n.allocated || {}, use = n.usage || {}, facts = n.facts || {};
    const tenants = tenantsOn(n.name, replicas, workloads).map((t) => t || "(default)");
    const ready = n.status === "Ready";
    const usedMem = Number(use.memory_used_bytes || 0), totalMem = Number(use.memory_total_bytes || 0);
    const sampled = Number(use.sampled_at_ms || 0) > 0;
    const memCap = Number(cap.memory_bytes || 0);
    return h("article", { class: `vm ${ready ? "" : "not-ready"} ${n.schedulable ? "" : "cordoned"}`, "data-node": n.name, "data-status": n.status },
      h("header", {},
        h("h2", {}, nodeLink(n.name)),
        h("span", { class: `node-status ${ready ? "ok" : "bad"}` }, n.status || "Unknown"),
        n.schedulable ? null : h("span", { class: "node-status warn", title: "cordoned: takes no new replicas" }, "cordoned")),
      h("div", { class: "vm-facts" },
        h("span", { title: "the hypervisor the agent found itself under" }, "hypervisor ", h("b", {}, facts.hypervisor || "none (bare metal)")),
        h("span", { title: "replicas of different tenants never share a node" }, "tenant ", h("b", {}, tenants.length ? tenants.join(", ") : "none yet")),
        h("span", {}, "capacity ", h("b", {}, `${cpu(cap.cpu_millis)} CPU, ${mem(cap.memory_bytes)}`))),
      h("div", { class: "meters" },
        meter("CPU", [{ value: pct(alloc.cpu_millis, cap.cpu_millis), class: "requested" }],
          `${cpu(alloc.cpu_millis)} of ${cpu(cap.cpu_millis)} requested` + (sampled ? ` · machine ${Number(use.cpu_percent || 0).toFixed(0)}% busy` : ""),
          "requested by the replicas placed here, of what the node advertises; busy: the whole machine as its agent sampled it"),
        sampled ? meter("", [{ value: Number(use.cpu_percent || 0), class: "used" }], "") : null,
        meter("Memory", [{ value: pct(alloc.memory_bytes, memCap), class: "requested" }],
          `${mem(alloc.memory_bytes)} of ${mem(memCap)} requested` + (sampled ? ` · machine ${mem(usedMem)} of ${mem(totalMem)} used` : "")),
        sampled ? meter("", [{ value: pct(usedMem, totalMem), class: "used" }], "") : null),
      this.strip(replicas, memCap),
      h("div", { class: "containers" },
        replicas.length ? replicas.map((r) => this.container(r)) : h("p", { class: "muted empty" }, "no containers")));
  },
  strip(replicas, memCap) {
    // The node's memory as one strip, each container its requested share of it (Nomad's topology view).
    return h("div", { class: "alloc-strip", title: "each container's share of the node's memory" },
      replicas.map((r) => h("span", {
        class: `alloc phase-${(r.phase || "").toLowerCase()}`, title: `${r.id}: ${mem((r.requests || {}).memory_bytes)}`,
        style: { width: `${pct(Number((r.requests || {}).memory_bytes || 0), memCap)}%` },
      })));
  },
  container(r) {
    const req = r.requests || {}, u = r.usage || {};
    const usage = Number(u.sampled_at_ms || 0) > 0 ? `${Number(u.cpu_percent || 0).toFixed(1)}% CPU · ${mem(u.memory_bytes)}` : "no usage sample yet";
    return h("a", {
      class: `container phase-${(r.phase || "").toLowerCase()}`, href: `#/replica/${encodeURIComponent(r.id)}`,
      "data-replica": r.id, "data-phase": r.phase, "data-ready": r.ready ? "true" : "false",
      title: `${r.id}: ${r.phase}${r.reason ? " — " + r.reason : ""}\nrequests ${cpu(req.cpu_millis)} CPU, ${mem(req.memory_bytes)}`,
    },
      h("span", { class: "c-name" }, r.id, r.ready ? h("span", { class: "ready-dot", title: "ready" }) : null),
      h("span", { class: "c-phase" }, r.phase, r.restarts ? ` · ${plural(r.restarts, "restart")}` : ""),
      h("span", { class: "c-usage" }, usage));
  },
  pending(replicas) {
    return h("article", { class: "vm unplaced", "data-node": "" },
      h("header", {}, h("h2", {}, "Not placed"), h("span", { class: "node-status warn" }, `${replicas.length} pending`)),
      h("div", { class: "vm-facts" }, h("span", {}, "replicas no node can take now, and why")),
      h("div", { class: "pending-list" }, replicas.map((r) =>
        h("a", { class: "pending-replica", href: `#/replica/${encodeURIComponent(r.id)}`, "data-replica": r.id, "data-phase": r.phase },
          h("span", { class: "c-name" }, r.id), h("span", { class: "why" }, (r.placement && r.placement.summary) || r.reason || "waiting to be scheduled")))));
  },
};

views.workloads = {
  mount(root) {
    this.root = root;
    clear(root, h("h1", {}, "Workloads"), this.body = h("div", {}));
  },
  update() {
    if (!S.state) return;
    const ws = S.state.workloads;
    if (!ws.length) { morph(this.body, h("p", { class: "muted" }, "No workloads: orchestra apply -f FILE creates one.")); return; }
    morph(this.body, table(["name", "ready", "up-to-date", "available", "pending", "revision", "rollout", "image", "tenant", "age"],
      ws.map((w) => {
        const ro = w.rollout || {}, t = spec(w).template || {};
        return h("tr", { "data-workload": w.name },
          h("td", {}, workloadLink(w.name), w.deleting ? h("span", { class: "muted" }, " (deleting)") : null),
          h("td", { "data-count": "ready" }, `${w.ready}/${w.desired}`),
          h("td", { "data-count": "up-to-date" }, String(w.up_to_date)),
          h("td", { "data-count": "available" }, String(w.available)),
          h("td", {}, String(w.pending)),
          h("td", {}, String(w.revision)),
          h("td", {}, rolloutCell(ro)),
          h("td", {}, t.image || "-"), h("td", {}, spec(w).tenant || "-"), h("td", {}, age(w.created_at_ms)));
      }), { class: "workloads" }));
  },
};

function rolloutCell(ro) {
  const desired = Number(ro.desired || 0), updated = Number(ro.updated || 0);
  return h("div", { class: "rollout-cell" },
    h("span", { class: `rollout-state state-${(ro.state || "none").toLowerCase()}` }, ro.state || "-"),
    h("span", { class: "progress", title: `${updated} of ${desired} replicas on revision ${ro.revision}` },
      h("span", { class: "progress-fill", style: { width: `${pct(updated, desired)}%` } })),
    h("span", { class: "muted" }, `${updated}/${desired}`));
}

views.workload = {
  mount(root, name) {
    this.name = name;
    this.detail = null;
    this.fetched = 0;
    clear(root, h("h1", {}, "Workload ", h("span", { class: "name" }, name)),
      this.head = h("div", {}), h("h2", {}, "Rollout"), this.rollout = h("div", {}),
      h("h2", {}, "Revisions"), this.history = h("div", {}, h("p", { class: "muted" }, "loading…")),
      h("h2", {}, "Replicas"), this.replicas = h("div", {}),
      h("h2", {}, "Events"), this.events = h("div", {}));
    this.refresh();
  },
  async refresh() {
    this.fetched = Date.now();
    try {
      this.detail = await getJSON(`/api/workload?name=${encodeURIComponent(this.name)}`);
      this.problem = "";
    } catch (e) { this.problem = e.message; }
    this.draw();
  },
  update() {
    // The live state has the counts and the replicas; history and events come from a look-up,
    // redone when the state changed (at most every two seconds).
    this.draw();
    if (Date.now() - this.fetched > 2000) this.refresh();
  },
  draw() {
    const w = workloadsByName().get(this.name) || (this.detail && this.detail.workload);
    if (!w) { morph(this.head, h("p", { class: "problem" }, this.problem || "No such workload (deleted?).")); return; }
    const sp = spec(w), t = sp.template || {}, res = t.resources || {}, upd = sp.update || {};
    morph(this.head, fields([
      ["replicas", `${w.ready} ready of ${w.desired} desired · ${w.up_to_date} up to date · ${w.available} available · ${w.pending} pending`],
      ["image", t.image || "-"], ["command", (t.command || []).map(shellWord).join(" ") || "-"],
      ["resources", `${quantity(res.cpu, cpuText)} CPU, ${quantity(res.memory, mem)} memory`],
      ["tenant", sp.tenant || "-"], ["revision", String(w.revision)],
      ["update", `maxSurge ${upd.maxSurge ?? "-"}, maxUnavailable ${upd.maxUnavailable ?? "-"}, minReadySeconds ${upd.minReadySeconds ?? 0}`],
      this.problem ? ["problem", h("span", { class: "problem" }, this.problem)] : null,
    ]));
    const ro = w.rollout || {};
    morph(this.rollout, h("div", { class: "rollout", "data-rollout-state": ro.state || "" },
      rolloutCell(ro),
      fields([["state", ro.state || "-"], ["message", ro.message || "-"], ["to revision", String(ro.revision || "-")],
        ["last complete revision", String(ro.stable_revision || "-")],
        ["replicas", `${ro.updated || 0} updated, ${ro.ready || 0} ready, ${ro.available || 0} available, ${ro.old || 0} of older revisions`],
        ["started", ro.started_at_ms ? `${age(ro.started_at_ms)} ago` : "-"], ["paused", ro.paused ? "yes" : "no"]])));
    if (this.detail) {
      const current = Number(this.detail.current_revision);
      morph(this.history, table(["revision", "created", "origin", "change"],
        this.detail.revisions.slice().reverse().map((r) => h("tr", { "data-revision": r.number, class: Number(r.number) === current ? "current" : "" },
          h("td", {}, String(r.number), Number(r.number) === current ? " (current)" : ""),
          h("td", {}, `${age(r.created_at_ms)} ago`), h("td", {}, r.origin || "apply"), h("td", { class: "message" }, r.change || "-"))),
        { class: "revisions" }));
      morph(this.events, eventsTable(this.detail.events, "No events for this workload."));
    }
    const reps = S.state ? S.state.replicas.filter((r) => r.workload === this.name) : [];
    morph(this.replicas, reps.length ? replicaTable(reps) : h("p", { class: "muted" }, "No replicas."));
  },
};

function replicaTable(reps) {
  return table(["replica", "node", "phase", "ready", "revision", "restarts", "reason"], reps.map((r) =>
    h("tr", { "data-replica": r.id }, h("td", {}, replicaLink(r.id)), h("td", {}, nodeLink(r.node)), h("td", {}, phaseBadge(r.phase)),
      h("td", {}, r.ready ? "yes" : "no"), h("td", {}, String(r.revision)), h("td", {}, String(r.restarts || 0)),
      h("td", { class: "message" }, r.reason || ""))), { class: "replicas" });
}

views.replica = {
  mount(root, id) {
    this.id = id;
    this.detail = null;
    this.seenUpdate = replicaVersion(S.state && S.state.replicas.find((x) => x.id === id));
    clear(root, h("h1", {}, "Replica ", h("span", { class: "name" }, id)),
      this.head = h("div", {}),
      h("h2", {}, "Placement"), this.placement = h("div", { id: "placement" }, h("p", { class: "muted" }, "loading…")),
      h("h2", {}, "Health checks"), this.probes = h("div", {}),
      h("h2", {}, "Recent logs ", h("button", { type: "button", onclick: () => this.fetchLogs() }, "refresh")),
      this.logs = h("pre", { class: "logs", id: "logs" }, "…"),
      h("h2", {}, "Events"), this.events = h("div", {}));
    this.refresh();
    this.fetchLogs();
    this.logTimer = setInterval(() => this.fetchLogs(), 5000);
  },
  unmount() { clearInterval(this.logTimer); },
  async refresh() {
    try { this.detail = await getJSON(`/api/replica?id=${encodeURIComponent(this.id)}`); this.problem = ""; } catch (e) { this.problem = e.message; }
    this.draw();
  },
  async fetchLogs() {
    const r = this.current();
    if (r && !r.node) { this.logs.textContent = "(not on a node: no container, no logs)"; return; }
    try {
      const d = await getJSON(`/api/logs?replica=${encodeURIComponent(this.id)}&tail=100`);
      this.logs.textContent = d.text || "(no output yet)";
    } catch (e) { this.logs.textContent = `(no logs: ${e.message})`; }
  },
  current() {
    const live = S.state && S.state.replicas.find((r) => r.id === this.id);
    return live || (this.detail && this.detail.replica);
  },
  update() {
    // The full explanation comes from a look-up: again when the replica changed.
    const key = replicaVersion(S.state && S.state.replicas.find((x) => x.id === this.id));
    if (key !== this.seenUpdate) { this.seenUpdate = key; this.refresh(); } else this.draw();
  },
  draw() {
    const r = this.current();
    if (!r) { morph(this.head, h("p", { class: "problem" }, this.problem || "No such replica (removed?).")); morph(this.placement); return; }
    const u = r.usage || {}, req = r.requests || {};
    morph(this.head, fields([
      ["workload", workloadLink(r.workload)], ["node", nodeLink(r.node)], ["phase", phaseBadge(r.phase, r.ready)],
      ["ready", r.ready ? `yes, since ${clock(r.ready_since_ms)}` : "no"],
      ["reason", r.reason || "-"], ["revision", String(r.revision)], ["incarnation", String(r.incarnation)],
      ["restarts", String(r.restarts || 0)], r.exit_code ? ["exit code", String(r.exit_code)] : null,
      ["container", r.container_id ? r.container_id.slice(0, 12) : "-"],
      ["requests", `${cpu(req.cpu_millis)} CPU, ${mem(req.memory_bytes)}`],
      ["usage", Number(u.sampled_at_ms || 0) ? `${Number(u.cpu_percent || 0).toFixed(1)}% CPU, ${mem(u.memory_bytes)} of ${mem(u.memory_limit_bytes)}` : "-"],
      this.problem ? ["problem", h("span", { class: "problem" }, this.problem)] : null,
    ]));
    const full = this.detail && this.detail.replica && this.detail.replica.id === this.id ? this.detail.replica.placement : null;
    morph(this.placement, placementView(full || r.placement || {}, r));
    morph(this.probes, probesView(r.probes || []));
    if (this.detail) morph(this.events, eventsTable(this.detail.events, "No events for this replica."));
  },
};

function replicaVersion(r) {
  return r ? `${r.updated_at_ms}/${r.incarnation}/${r.phase}/${(r.placement || {}).summary}` : "gone";
}

function placementView(p, r) {
  const out = [h("p", { class: `placement-summary ${r.node ? "" : "problem"}`, "data-placement-summary": "" },
    p.summary || r.reason || (r.node ? `on ${r.node}` : "waiting to be scheduled"))];
  if (p.nodes_total) out.push(h("p", {}, `${p.nodes_feasible || 0} of ${p.nodes_total} nodes passed every filter` +
    (p.decided_at_ms ? ` (decided ${clock(p.decided_at_ms)})` : "")));
  const rej = p.rejections || [];
  if (rej.length) {
    out.push(h("h3", {}, r.node ? "Nodes that could not take it" : "Why no node can take it"),
      table(["filter", "reason", "nodes", "detail"], rej.map((x) => h("tr", { "data-rejection": x.filter },
        h("td", {}, x.filter), h("td", {}, x.reason), h("td", {}, `${x.count}: ${(x.nodes || []).join(", ")}`),
        h("td", { class: "message" }, x.detail || ""))), { class: "rejections" }));
  }
  const scores = p.scores || [];
  if (scores.length) {
    const parts = [...new Set(scores.flatMap((s) => Object.keys(s.parts || {})))].sort();
    out.push(h("h3", {}, "Scores (the chosen node first)"),
      table(["node", "total", ...parts], scores.map((s, i) => h("tr", { class: i === 0 && s.node === r.node ? "current" : "" },
        h("td", {}, nodeLink(s.node)), h("td", {}, Number(s.total).toFixed(2)),
        parts.map((k) => h("td", {}, s.parts && k in s.parts ? Number(s.parts[k]).toFixed(2) : "-")))), { class: "scores" }));
  }
  if ((p.preempted || []).length) out.push(h("p", {}, "Preempted to make room: ", p.preempted.join(", ")));
  return out;
}

function probesView(probes) {
  if (!probes.length) return h("p", { class: "muted" }, "No health checks reported (none configured, or not running).");
  return table(["probe", "checks", "result", "in a row", "last run", "message"], probes.map((p) =>
    h("tr", { "data-probe": p.probe, class: p.result === "Failure" ? "warning" : "" },
      h("td", {}, p.probe), h("td", {}, p.action || "-"), h("td", {}, p.result),
      h("td", {}, p.result === "Failure" ? plural(p.consecutive_failures, "failure") : plural(p.consecutive_successes, "success")),
      h("td", {}, clock(p.last_run_ms)), h("td", { class: "message" }, p.message || ""))), { class: "probes" });
}

views.node = {
  mount(root, name) {
    this.name = name;
    this.detail = null;
    this.fetched = 0;
    clear(root, h("h1", {}, "Node ", h("span", { class: "name" }, name)), this.head = h("div", {}),
      h("h2", {}, "Containers"), this.replicas = h("div", {}), h("h2", {}, "Events"), this.events = h("div", {}));
    this.refresh();
  },
  async refresh() {
    this.fetched = Date.now();
    try { this.detail = await getJSON(`/api/node?name=${encodeURIComponent(this.name)}`); this.problem = ""; } catch (e) { this.problem = e.message; }
    this.draw();
  },
  update() { this.draw(); if (Date.now() - this.fetched > 2000) this.refresh(); },
  draw() {
    const n = (S.state && S.state.nodes.find((x) => x.name === this.name)) || (this.detail && this.detail.node);
    if (!n) { morph(this.head, h("p", { class: "problem" }, this.problem || "No such node.")); return; }
    const f = n.facts || {}, cap = n.capacity || {}, alloc = n.allocated || {};
    morph(this.head, fields([
      ["status", `${n.status}${n.schedulable ? "" : ", cordoned"}`], ["hypervisor", f.hypervisor || "none (bare metal)"],
      ["capacity", `${cpu(cap.cpu_millis)} CPU, ${mem(cap.memory_bytes)}`], ["requested", `${cpu(alloc.cpu_millis)} CPU, ${mem(alloc.memory_bytes)}`],
      ["labels", Object.entries(n.labels || {}).map(([k, v]) => `${k}=${v}`).join(", ") || "-"],
      ["taints", (n.taints || []).map((t) => `${t.key}${t.value ? "=" + t.value : ""}:${t.effect}`).join(", ") || "-"],
      ["machine", `${f.os || "-"}, kernel ${f.kernel || "-"}, ${f.cpus || "?"} CPUs, ${mem(f.memory_bytes)}, ${f.architecture || ""}`],
      ["docker", f.docker_version || "-"], ["agent", f.agent_version || "-"], ["runtime", n.runtime_status || "-"],
      ["last heartbeat", clock(n.last_heartbeat_ms)], ["registered", `${age(n.registered_at_ms)} ago`],
      this.problem ? ["problem", h("span", { class: "problem" }, this.problem)] : null,
    ]));
    const reps = S.state ? S.state.replicas.filter((r) => r.node === this.name) : [];
    morph(this.replicas, reps.length ? replicaTable(reps) : h("p", { class: "muted" }, "No containers."));
    if (this.detail) morph(this.events, eventsTable(this.detail.events, "No events for this node."));
  },
};

views.events = {
  mount(root) {
    clear(root, h("h1", {}, "Events"),
      h("p", {}, h("input", { type: "search", placeholder: "filter: text in any column (e.g. web-0, Warning, FailedScheduling)", class: "filter", oninput: () => this.update() })),
      this.body = h("div", {}));
    this.filter = root.querySelector("input.filter");
  },
  update() {
    const q = (this.filter.value || "").toLowerCase();
    const found = q ? S.events.filter((e) => `${e.type} ${e.reason} ${e.kind} ${e.object} ${e.message}`.toLowerCase().includes(q)) : S.events;
    morph(this.body, eventsTable(found.slice(-300), q ? "No event matches." : "No events yet."));
  },
};

// -- routing and the live stream ------------------------------------------------------------------

function route() {
  const parts = (location.hash || "#/").slice(2).split("/").map(decodeURIComponent);
  const [page, arg] = parts;
  if (page === "workloads") return ["workloads", "workloads"];
  if (page === "workload" && arg) return ["workload", "workloads", arg];
  if (page === "replica" && arg) return ["replica", "topology", arg];
  if (page === "node" && arg) return ["node", "topology", arg];
  if (page === "events") return ["events", "events"];
  return ["topology", "topology"];
}

function show() {
  const [name, nav, arg] = route();
  if (S.view && S.view.unmount) S.view.unmount();
  for (const a of document.querySelectorAll("[data-nav]")) a.classList.toggle("active", a.dataset.nav === nav);
  const root = clear(document.getElementById("view"));
  root.dataset.view = name;
  S.view = views[name];
  S.view.mount(root, arg);
  if (S.state || name === "events") S.view.update();
  window.scrollTo(0, 0);
}

function summary() {
  const st = S.state;
  if (!st) return;
  const ready = st.nodes.filter((n) => n.status === "Ready").length;
  const running = st.replicas.filter((r) => r.phase === "Running").length;
  const pending = st.replicas.filter((r) => !r.node).length;
  document.getElementById("summary").textContent =
    `${st.nodes.length} nodes (${ready} Ready) · ${st.workloads.length} workloads · ${st.replicas.length} replicas: ${running} running, ${pending} pending`;
}

function setStatus(live, text) {
  S.live = live;
  const el = document.getElementById("status");
  el.className = `status ${live ? "live" : "down"}`;
  el.textContent = live ? "live" : "not live";
  el.title = text;
  let banner = document.getElementById("banner");
  if (!live) {
    if (!banner) { banner = h("div", { id: "banner", class: "problem banner" }); document.body.insertBefore(banner, document.getElementById("view")); }
    banner.textContent = `${text} — showing the last state seen; retrying.`;
  } else if (banner) banner.remove();
}

function connect() {
  const es = new EventSource("/api/stream");
  es.addEventListener("status", (e) => { const d = JSON.parse(e.data); setStatus(d.live, d.status); });
  es.addEventListener("state", (e) => {
    const first = !S.state;
    S.state = JSON.parse(e.data);
    summary();
    if (S.view) S.view.update();
    if (first) performance.mark("orchestra:first-state");
    window.orchestraRendered = (window.orchestraRendered || 0) + 1;
  });
  es.addEventListener("events", (e) => {
    const d = JSON.parse(e.data);
    S.events = d.reset ? d.events : S.events.concat(d.events);
    if (S.events.length > 2000) S.events = S.events.slice(-2000);
    if (S.view === views.events) S.view.update();
  });
  es.addEventListener("error", () => setStatus(false, "lost the connection to orchestra ui (is it still running?)"));
}

window.addEventListener("hashchange", show);
show();
connect();
