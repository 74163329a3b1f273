"""Placeholder replaced below."""
from __future__ import annotations

import argparse

from awsv.context import Context
from awsv.errors import AwsvError


def add_arguments(p: argparse.ArgumentParser) -> None:
    pass


def run_sync(ctx: Context, args: argparse.Namespace, session: object) -> int:
    raise AwsvError("not yet")
