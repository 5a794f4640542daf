"""The Backrun domain: plain values and rules with no framework in sight.

Everything in this package is standard-library Python plus :mod:`backrun_bot.errors`. It must never
import discord or sqlalchemy, so it can be tested (and reasoned about) without a bot or a database.
The submodules are imported directly (``from backrun_bot.domain.amounts import parse_amount``);
nothing is re-exported here, which keeps importing one module from pulling in all of them.
"""
