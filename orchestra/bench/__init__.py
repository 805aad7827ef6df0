"""Measurements the product makes itself: `orchestra bench isolation`."""
