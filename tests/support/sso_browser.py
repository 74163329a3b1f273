"""The scripted user's browser: `BROWSER="python sso_browser.py"` in sign-in tests.

It does what a person does after awsv opens a sign-in page: fetch the
address (awsv's one-shot redirect), follow redirects to the stand-in's
authorize page, click Allow (POST the form), and follow the 302 back to
awsv's loopback redirect URI. Each launch appends a line to
`$SSO_BROWSER_LOG`, so tests can count browser tabs. Standard library only:
it runs as a separate process, as a real browser would.

With `SSO_BROWSER_DEVICE=1` it plays the device flow instead: the address is
the verification page (`/device?user_code=…`) and it posts the approval.
"""

from __future__ import annotations

import http.client
import os
import sys
import urllib.parse


def _request(method: str, target: str, body: bytes | None = None, timeout: float = 10.0) -> tuple[int, dict[str, str]]:
    parts = urllib.parse.urlsplit(target)
    if parts.hostname is None:
        raise ValueError(f"not an http:// address: {target!r}")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    result = response.status, {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    return result


def approve(url: str) -> int:
    """Follow `url` through the sign-in and approve it; the last HTTP status seen."""
    status, headers = _request("GET", url)
    for _ in range(6):
        if status in (301, 302, 303, 307) and "location" in headers:
            status, headers = _request("GET", headers["location"])
        elif "x-approve-url" in headers:
            form = urllib.parse.urlencode({"request": headers["x-request-id"]}).encode()
            status, headers = _request("POST", headers["x-approve-url"], form)
        else:
            break
    return status


def approve_device(url: str) -> int:
    """Open the verification URL (complete form) and approve its user code."""
    parts = urllib.parse.urlsplit(url)
    code = urllib.parse.parse_qs(parts.query).get("user_code", [""])[0]
    base = f"{parts.scheme}://{parts.netloc}"
    form = urllib.parse.urlencode({"user_code": code}).encode()
    return _request("POST", base + "/device/approve", form)[0]


def main(argv: list[str]) -> int:
    log = os.environ.get("SSO_BROWSER_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write("launched\n")
    status = approve_device(argv[1]) if os.environ.get("SSO_BROWSER_DEVICE") == "1" else approve(argv[1])
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
