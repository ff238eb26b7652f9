"""The browser tests' server: a connection the browser drops must not leave a file open for a later test to trip on."""

import gc
import socket
import struct
import sys
import time


def test_a_dropped_static_file_request_leaves_no_file_open(live_server, monkeypatch):
    left_open = []
    monkeypatch.setattr(sys, "unraisablehook", lambda unraisable: left_open.append(unraisable))
    port = int(live_server.rsplit(":", 1)[1])
    for _ in range(20):
        # A request with bytes after it, then a reset: the development server's drain of the socket raises.
        connection = socket.create_connection(("127.0.0.1", port))
        connection.sendall(b"GET /static/favicon.svg HTTP/1.1\r\nHost: x\r\n\r\n" + b"x" * 100)
        time.sleep(0.005)
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
    time.sleep(0.3)
    gc.collect()
    assert [repr(u.exc_value) for u in left_open] == []
