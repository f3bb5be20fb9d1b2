"""An HTTP server on loopback, in a thread of this process, for as long as a `with` block runs."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Iterator


@contextmanager
def serving(handler: Callable[..., BaseHTTPRequestHandler], port: int = 0, name: str = "loopback") -> Iterator[str]:
    """Serve with handler on loopback (a free port unless given); yield the server's URL."""
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
