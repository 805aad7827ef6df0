"""The plane's controllers, each a run_once(now) over the store (see orchestra/server/plane.py)."""
