"""Run Backrun: ``python bot.py`` is the same as ``backrun-bot run``."""

import sys

from backrun_bot.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
