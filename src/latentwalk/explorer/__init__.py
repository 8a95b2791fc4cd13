"""The live explorer: a FastAPI server on this machine (server) over what the page asks of the runs (backend),
and the page itself (static/: plain JavaScript, one file per tab)."""
