"""Starting point; the pipeline developer replaces this module."""


async def engine_lifespan():
    return None
