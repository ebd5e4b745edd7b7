"""A TCP proxy in front of the Hardhat node that a test can take down and bring back.

Stopping the node itself would lose its chain (Hardhat keeps it in memory); the functions see the
same thing when the proxy is down: every connection to the chain URL is cut (new ones are accepted
and closed at once, open ones closed). ``down_after(method, for_seconds)`` takes it down right after
forwarding the first JSON-RPC request whose body names ``method`` (e.g. ``eth_sendRawTransaction``): the
transaction reaches the node (and is mined) but its sender never hears back, as when the node or the
network dies mid-call. Listens on 127.0.0.1 on a free port; ``stop()`` closes everything.
"""

from __future__ import annotations

import socket
import threading
import time


class ChainProxy:
    def __init__(self, target_url: str) -> None:
        host_port = target_url.split("://", 1)[1].split("/", 1)[0]
        host, port = host_port.rsplit(":", 1)
        self.target = (host, int(port))
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.up = threading.Event()
        self.up.set()
        self._trigger: bytes | None = None
        self._outage: float | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopped = False
        self.cut_at: float | None = None
        self.refused = 0  # connections cut while down
        self.connections = 0  # connections forwarded
        threading.Thread(target=self._accept, name="chain-proxy", daemon=True).start()

    # -- control ------------------------------------------------------------------------------------

    def down(self) -> None:
        self.up.clear()
        self.cut_at = time.time()
        with self._lock:
            for s in list(self._open):
                _close(s)
            self._open.clear()

    def restore(self) -> None:
        self._trigger = None
        self.up.set()

    def down_after(self, method: str, for_seconds: float | None = None) -> None:
        """Go down right after forwarding the next request naming ``method``; back up
        ``for_seconds`` later (None: until ``restore()``)."""
        self._outage = for_seconds
        self._trigger = method.encode()

    def stop(self) -> None:
        self._stopped = True
        self.down()
        _close(self.server)

    # -- plumbing -----------------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            if not self.up.is_set():
                self.refused += 1
                _close(conn)
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=30)
        except OSError:
            _close(conn)
            return
        with self._lock:
            self._open |= {conn, upstream}
        threading.Thread(target=self._pipe, args=(upstream, conn, False), daemon=True).start()
        self._pipe(conn, upstream, True)

    def _pipe(self, src: socket.socket, dst: socket.socket, watch: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data or not self.up.is_set():
                    break
                dst.sendall(data)
                if watch and self._trigger is not None and self._trigger in data:
                    self._trigger = None
                    time.sleep(0.05)  # the request reaches the node; its answer never comes back
                    self.down()
                    if self._outage is not None:
                        threading.Timer(self._outage, self.restore).start()
                    break
        except OSError:
            pass
        finally:
            _close(src)
            _close(dst)


def _close(s: socket.socket) -> None:
    try:
        s.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass
