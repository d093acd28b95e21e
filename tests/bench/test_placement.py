"""`bench.placement` counts a server's established connections by the process holding them."""

import multiprocessing
import multiprocessing.synchronize
import socket

from bench.placement import connections_per_worker


def _accept_and_hold(
    listener: socket.socket, count: int, ready: multiprocessing.synchronize.Event
) -> None:
    held = [listener.accept()[0] for _ in range(count)]
    ready.set()
    # Hold them until the parent closes its ends.
    for connection in held:
        connection.recv(1)


def test_connections_are_counted_per_process_holding_them() -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    # A second process accepts two of the five: "3+2", largest first.
    other = context.Process(target=_accept_and_hold, args=(listener, 2, ready), daemon=True)
    other.start()
    clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    assert ready.wait(10)
    clients += [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    accepted = [listener.accept()[0] for _ in range(3)]
    try:
        assert connections_per_worker(port) == [3, 2]
    finally:
        for s in clients + accepted:
            s.close()
        other.join(10)
        if other.is_alive():
            other.kill()
        listener.close()
