import sys

from backrun_bot.cli import main

sys.exit(main())
