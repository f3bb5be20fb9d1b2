"""A loopback HTTP proxy in front of the emulator that answers as AWS does from afar: every answer held
`latency_ms`, and a share of EC2 Describe calls refused as EC2 refuses a throttled call (HTTP 503,
`RequestLimitExceeded` in the query API's error body), which the SDKs retry.

Several emulator processes may stand behind it (`upstreams`), so that the emulator, one Python process
where AWS is many machines, is not what a benchmark measures: each member account lives in one of them.
The proxy learns which account a set of credentials acts in from the AssumeRole calls it forwards (the
account of the RoleArn asked for, the AccessKeyId answered), sends that account's calls to its emulator
and names the account to it (moto's `x-moto-account-id` header). Calls with any other credentials (the
caller's own) go to the first emulator. Assumed credentials are therefore only usable through the proxy
that saw them assumed.

It counts the calls it answers per (account, region) and the throttling errors it made up.

    python -m harness.latency_proxy --upstream http://127.0.0.1:5000 [--upstream ...] --port 5100 \\
        --latency-ms 80 --throttle 0.1
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import threading
import time
import urllib.parse
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any, Iterator
from contextlib import contextmanager

from harness import loopback

DEFAULT_LATENCY_MS = 80.0
DEFAULT_THROTTLE = 0.1
CALLER = "caller"  # the account column of calls made with credentials not assumed through the proxy

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[0-9]{8}/([^/]+)/([^/]+)/")
_ROLE_ACCOUNT = re.compile(r"^arn:[^:]+:iam::([0-9]{12}):role/")
_ACCESS_KEY_ID = re.compile(rb"<AccessKeyId>([^<]+)</AccessKeyId>")
# What EC2 answers a throttled call (EC2 API reference, "Query API request rate"; error code list).
THROTTLED_BODY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
    "<Message>Request limit exceeded.</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>"
)
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host"}
)


class LatencyProxy:
    """The proxy's state: where accounts live, what it counted. `latency_ms` and `throttle` may be changed
    between runs (seeding without latency, measuring with it)."""

    def __init__(self, upstreams: list[str], latency_ms: float = DEFAULT_LATENCY_MS, throttle: float = DEFAULT_THROTTLE,
                 seed: int = 0) -> None:
        if not upstreams:
            raise ValueError("give at least one upstream emulator")
        self.upstreams = [urllib.parse.urlsplit(url) for url in upstreams]
        self.latency_ms = latency_ms
        self.throttle = throttle
        self._random = random.Random(seed)
        self._accounts: dict[str, str] = {}  # access key ID -> account it acts in
        self._lock = threading.Lock()
        self.calls: Counter[tuple[str, str]] = Counter()  # (account, region) -> calls answered
        self.throttled = 0

    def reset_counts(self) -> None:
        with self._lock:
            self.calls.clear()
            self.throttled = 0

    def shard(self, account: str) -> int:
        """The emulator that holds `account`: the same one for every run."""
        return zlib.crc32(account.encode()) % len(self.upstreams)

    def route(self, headers: Any, body: bytes) -> tuple[int, str | None, str, str, str]:
        """(emulator, account to name to it or None, account for the counts, region, service) of a call."""
        found = _CREDENTIAL.search(headers.get("Authorization", ""))
        key, region, service = found.groups() if found else ("", "", "")
        with self._lock:
            account = self._accounts.get(key)
        if account is None:
            return 0, None, CALLER, region, service
        return self.shard(account), account, account, region, service

    def should_throttle(self, service: str, body: bytes) -> bool:
        if service != "ec2" or self.throttle <= 0:
            return False
        action = urllib.parse.parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
        if not action.startswith("Describe"):
            return False
        with self._lock:
            return self._random.random() < self.throttle

    def learn(self, service: str, body: bytes, answer: bytes) -> None:
        """After an AssumeRole the proxy forwarded: its credentials act in the role's account."""
        if service != "sts":
            return
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        if form.get("Action", [""])[0] != "AssumeRole":
            return
        role = _ROLE_ACCOUNT.match(form.get("RoleArn", [""])[0])
        key = _ACCESS_KEY_ID.search(answer)
        if role and key:
            with self._lock:
                self._accounts[key.group(1).decode()] = role.group(1)

    def count(self, account: str, region: str, throttled: bool) -> None:
        with self._lock:
            self.calls[account, region] += 1
            self.throttled += throttled

    @contextmanager
    def serving(self, port: int = 0) -> Iterator[str]:
        """Serve on loopback (a free port unless given); yield the proxy's URL."""
        with loopback.serving(_handler(self), port, name="latency-proxy") as url:
            yield url


def _handler(proxy: LatencyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as the SDKs expect
        # Headers and body leave in two writes: with Nagle's algorithm the second waits for the client's
        # delayed acknowledgement of the first, 40 ms more on every answer.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 -- the base class's name
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            shard, account, counted, region, service = proxy.route(self.headers, body)
            throttled = proxy.should_throttle(service, body)
            if throttled:
                status, reason = 503, "Service Unavailable"
                answer = THROTTLED_BODY.format(request_id=f"{random.getrandbits(64):016x}").encode()
                answer_headers = [("Content-Type", "text/xml;charset=UTF-8")]
            else:
                status, reason, answer_headers, answer = self._upstream(shard, account, body)
                if status == 200:
                    proxy.learn(service, body, answer)
            proxy.count(counted, region, throttled)
            # Added to the emulator's own time, not overlapping it: the emulator's cost is never hidden.
            if proxy.latency_ms > 0:
                time.sleep(proxy.latency_ms / 1000)
            try:
                self.send_response(status, reason)
                for name, value in answer_headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up waiting (its read timeout) and asks again on another connection.
                self.close_connection = True

        def _upstream(self, shard: int, account: str | None, body: bytes) -> tuple[int, str, list[tuple[str, str]], bytes]:
            target = proxy.upstreams[shard]
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=300)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            headers["Host"] = target.netloc
            if account:
                headers["x-moto-account-id"] = account
            try:
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
                kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}]
                return response.status, response.reason, kept, answer
            finally:
                connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", action="append", required=True, help="an emulator URL (repeatable)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=DEFAULT_LATENCY_MS)
    parser.add_argument("--throttle", type=float, default=DEFAULT_THROTTLE, help="share of EC2 Describe calls throttled")
    args = parser.parse_args()
    proxy = LatencyProxy(args.upstream, args.latency_ms, args.throttle)
    with proxy.serving(args.port) as url:
        print(url, flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
