"""Scorers with their weights. A node's score is the weighted sum, summed in this order.

Weights: the strategy (spread or bin-pack) and the per-node spread of one workload's replicas
weigh the same; zone spread weighs double so replicas reach every zone before resource balance
matters; a recent failure costs at most a third of one scorer's range.
"""
from orchestra.scheduler.scorers.binpack import BinPack
from orchestra.scheduler.scorers.preferred_affinity import PreferredAffinity
from orchestra.scheduler.scorers.recent_failures import RecentFailures
from orchestra.scheduler.scorers.spread import Spread
from orchestra.scheduler.scorers.topology_spread import TopologySpread
from orchestra.scheduler.scorers.workload_spread import WorkloadSpread

SCORERS = (
    (Spread(), 1.0),
    (BinPack(), 1.0),
    (WorkloadSpread(), 1.0),
    (TopologySpread(), 2.0),
    (PreferredAffinity(), 1.0),
    (RecentFailures(), 1.0),
)

__all__ = ["SCORERS"]
