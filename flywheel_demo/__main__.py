"""`python -m flywheel_demo`: write the demo data (see `python -m flywheel_demo --help`)."""

import sys

from flywheel_demo.cli import main

if __name__ == "__main__":
    sys.exit(main())
