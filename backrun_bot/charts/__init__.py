"""Pictures the bot attaches (issue 10): drawn with matplotlib's Agg backend into PNG bytes.

Presentation without a framework: it imports neither discord nor sqlalchemy (``tests/test_layers.py``),
takes what :mod:`backrun_bot.domain` computed and gives back bytes, so the adapter can run it in a
worker thread (``asyncio.to_thread``) and attach the result, and the weekly summary can do the same.
Only this package imports matplotlib.
"""
