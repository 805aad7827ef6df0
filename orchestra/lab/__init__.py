"""The VM lab: boxes, Vagrant clusters, agent bootstrap and image loading over SSH."""
