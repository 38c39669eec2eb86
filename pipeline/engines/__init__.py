"""Engines: what executes the stages of one run.

``local`` (the default) runs every stage in this process; ``pipeline.run.run`` is its public entry.
Other engines (Ray Data) live beside it and call the same stage functions.
"""
