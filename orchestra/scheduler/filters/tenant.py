"""Tenant isolation: replicas of different tenants never share a node (the VM is the tenant boundary).

The empty tenant is a tenant of its own (the default one): it does not share with named tenants.
"""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.cluster import NO_TENANT
from orchestra.scheduler.plugin import Filter

NAME = "tenant"


def tenant_label(name: str) -> str:
    return name or "(default)"


class TenantIsolation(Filter):
    name = NAME
    static = False

    def mask(self, c, w):
        return (c.node_tenant == NO_TENANT) | (c.node_tenant == w.tenant)

    def passes(self, c, w, i):
        t = c.node_tenant[i]
        return t == NO_TENANT or t == w.tenant

    def explain(self, c, w, idx):
        # Nodes held by one tenant are grouped by its code in one go; only mixed nodes are looked at one by one.
        groups: dict[str, list[np.ndarray]] = {}
        owner = c.node_tenant[idx]
        single = owner >= 0
        for code in np.unique(owner[single]).tolist():
            groups.setdefault(f"tenant {tenant_label(c.tenant_names[code])} already on node", []).append(
                idx[single & (owner == code)])
        for i in idx[~single].tolist():
            others = sorted(c.tenant_names[t] for t in c.node_tenants[i] if t != w.tenant)
            groups.setdefault(f"tenant {tenant_label(others[0])} already on node", []).append(np.array([i]))
        return [(reason, np.sort(np.concatenate(parts)), "") for reason, parts in groups.items()]
