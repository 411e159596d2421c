"""``python -m etanche``."""

from etanche.cli import main

main()
