"""`orchestra ui`: a live web view of the cluster, served locally with the user's own credentials.

    command.py    the CLI command (lazily imported, like every command)
    server.py     the local HTTP server: the page's files, the live stream, read-only look-ups
    feed.py       the cluster as the page sees it: the plane's event stream plus re-lists
    snapshot.py   the listings as one JSON document
    static/       the page: plain HTML, CSS and JavaScript, no build step, nothing from elsewhere
"""
