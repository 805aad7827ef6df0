"""The VM lab: boxes, Vagrant clusters and agent bootstrap over SSH (images travel through the plane: orchestra image load)."""
