"""`awsv doctor --json` read back by check, and an HTTP server whose Date header a test sets.

The clock check compares the local time with the Date header of an STS
answer; AWS is out of reach here and moto's server always sends the true
time, so `date_server` is a loopback server answering every GET with a Date
shifted by its `offset`. `run_doctor` points AWS_ENDPOINT_URL_STS at it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import AwsvRunner


class DateServer(ThreadingHTTPServer):
    offset = timedelta(0)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response_only(403)  # like STS to a bare GET; no automatic Date header
        self.send_header("Date", format_datetime(datetime.now(UTC) + self.server.offset, usegmt=True))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def date_server() -> Iterator[DateServer]:
    server = DateServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def run_doctor(awsv: AwsvRunner, server: DateServer, **env: str) -> tuple[int, dict[str, list[dict]]]:
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    r = awsv("doctor", "--json", env={"AWS_ENDPOINT_URL_STS": url, **env})
    assert "Traceback" not in r.stderr
    report = json.loads(r.stdout)
    by_check: dict[str, list[dict]] = {}
    for finding in report["checks"]:
        by_check.setdefault(finding["check"], []).append(finding)
    assert report["ok"] == (r.returncode == 0)
    return r.returncode, by_check


def statuses(by_check: dict[str, list[dict]], check: str) -> set[str]:
    return {f["status"] for f in by_check[check]}
