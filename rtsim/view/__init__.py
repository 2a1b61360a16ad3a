"""rtsim view: a library's 3-D map in the browser, following a running engine (see server)."""
