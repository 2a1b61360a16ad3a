"""The scenarios of ``rtsim bench``, one module each (``run(args) -> Report``)."""
