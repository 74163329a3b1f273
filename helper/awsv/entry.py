"""The `awsv` program: the hot path first, the full command line otherwise.

Kept apart from `awsv.cli` so that a cached `awsv use` never imports argparse
or any command module (see `awsv.fastpath`).
"""

from __future__ import annotations

import sys


def main() -> int:
    from awsv.fastpath import run

    answered = run(sys.argv[1:])
    if answered is not None:
        return answered
    from awsv.cli import main as full_main

    return full_main()
