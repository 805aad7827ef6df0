"""Images: a node must hold the replica's image (orchestra never pulls; `orchestra image load`
puts an image on nodes). A node whose agent never reported its images is not checked.

The image sets come from the agents (agent.proto ImageInventory, stored on the node record); one
mask per image and pass (a static filter: the pipeline caches it by key).
"""
from __future__ import annotations

from orchestra.scheduler.plugin import Filter

NAME = "image"


def lack_reason(image: str) -> str:
    return f"lack image {image}"


class ImagePresent(Filter):
    name = NAME
    static = True

    def applies(self, d):
        return bool(d.image)

    def key(self, d):
        return d.image

    def mask(self, c, w):
        return c.image_mask(w.demand.image)

    def explain(self, c, w, idx):
        return [(lack_reason(w.demand.image), idx, "")]
