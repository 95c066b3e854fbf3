"""The status page for a phone (issue 16, ``docs/web.md``): the live session, the stop button,
settings and past sessions, served by aiohttp in the adapter's own asyncio loop.

Why a layer of its own, beside ``sim`` and below ``commands``: the page is product code (it runs
on the board with ``ccs2chademo run``) and so never imports the simulation; it reads the adapter
only through :class:`~.status.StatusBoard`, a read-only snapshot that whoever runs the session
(``adapter/runner.py`` on hardware, ``commands/_web_sim.py`` in a simulation) fills, and acts on
it only through the one callable it is handed: a short press of the stop button.
"""
