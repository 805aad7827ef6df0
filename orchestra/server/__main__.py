"""`python -m orchestra.server ...` runs the same command as `orchestra server ...`."""
from orchestra.server.command import server

if __name__ == "__main__":
    server(prog_name="orchestra server")
