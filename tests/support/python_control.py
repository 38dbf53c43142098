"""What the Python test servers share (tests/support/python_server.py, app_python_server.py).

The control channel, an HTTP/1.1 server on a port of its own that answers JSON and closes each
connection; the request headers as the servers record them; and the process's life: print
`{"port": ..., "control": ...}` on one stdout line once listening, run until stdin ends, then
stop the WebSocket server.
"""

import asyncio
import http
import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

HOST = "127.0.0.1"


def header_record(headers):
    """The request headers as a dict with names in lower case (repeated ones joined)."""
    record = {}
    for name, value in headers.raw_items():
        key = name.lower()
        record[key] = f"{record[key]}, {value}" if key in record else value
    return record


async def control_request(answer, reader, writer):
    """One HTTP/1.1 request; `await answer(method, path, query)` gives (status, JSON body)."""
    try:
        request_line = (await reader.readline()).decode("latin-1").strip()
        length = 0
        while True:
            line = (await reader.readline()).decode("latin-1").strip()
            if line == "":
                break
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length > 0:
            await reader.readexactly(length)
        method, target, _ = (request_line.split(" ") + ["", "", ""])[:3]
        url = urlsplit(target)
        status, body = await answer(method, url.path, parse_qs(url.query))
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n".encode() + data
        )
        await writer.drain()
    finally:
        writer.close()


async def restart_answer(server, query):
    """POST /restart?down=<ms>: the WebSocket server restarted on its port, down that long."""
    try:
        await server.restart_once(float(query.get("down", ["0"])[0]))
        return 200, {"ok": True, "port": server.port}
    except Exception as error:
        return 500, {"ok": False, "error": repr(error)}


async def serve_until_stdin_ends(server, answer):
    """Listens (`server.listen()`), serves the control channel with `answer`, prints both ports,
    and stops the server once stdin ends (the test that started it is done or went away)."""
    await server.listen()
    control = await asyncio.start_server(
        lambda r, w: control_request(answer, r, w), HOST, 0
    )
    control_port = control.sockets[0].getsockname()[1]
    stdin_closed = asyncio.get_running_loop().create_future()

    def on_stdin():
        if os.read(sys.stdin.fileno(), 4096) == b"" and not stdin_closed.done():
            stdin_closed.set_result(None)

    asyncio.get_running_loop().add_reader(sys.stdin.fileno(), on_stdin)
    sys.stdout.write(json.dumps({"port": server.port, "control": control_port}) + "\n")
    sys.stdout.flush()
    await stdin_closed
    asyncio.get_running_loop().remove_reader(sys.stdin.fileno())
    control.close()
    if server.restarting is not None:
        await asyncio.gather(server.restarting, return_exceptions=True)
    await server.stop()
