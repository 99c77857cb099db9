"""Starting point; the foundation developer replaces this module."""


async def demo_lifespan():
    return None
