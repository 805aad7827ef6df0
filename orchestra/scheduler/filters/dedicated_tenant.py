"""Nodes dedicated to a tenant: a node labelled `orchestra.tenant=T` takes only tenant T's replicas.

The label comes from the node's join token (a tenant VM pool's token, orchestra.lab.pools), so it
is in the node's certificate and the agent cannot drop it. A tenant's replicas may still run on
undedicated nodes, which TenantIsolation keeps to one tenant at a time.
"""
from __future__ import annotations

import numpy as np

from orchestra.scheduler.plugin import Filter
from orchestra.scheduler.filters.tenant import tenant_label

NAME = "dedicated-tenant"
LABEL = "orchestra.tenant"


class DedicatedTenant(Filter):
    name = NAME
    static = True

    def key(self, d):
        return d.tenant

    def mask(self, c, w):
        col = c.label_column(LABEL)
        return (col == -1) | (col == c.label_code(LABEL, w.demand.tenant))

    def explain(self, c, w, idx):
        col = c.label_column(LABEL)
        values = c.label_values(LABEL)
        groups: dict[str, list[int]] = {}
        for i in idx.tolist():
            groups.setdefault(values[col[i]], []).append(i)
        return [(f"dedicated to tenant {tenant_label(t)}", np.array(nodes), "") for t, nodes in sorted(groups.items())]
