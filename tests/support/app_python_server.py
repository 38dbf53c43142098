"""The Python `websockets` applications server, a peer of tests/portable/applications_cases.ts.

Run with Debian's interpreter, which has python3-websockets (10.4, the legacy asyncio server):

    /usr/bin/python3 tests/support/app_python_server.py

It answers what tests/support/app_routes.ts makes the other applications servers answer: the
routes /ws and / (echo and the test commands, and "flood:<bytes>:<frame>"), /once (a token
accepted once, from `authorization: Bearer <token>` or `?token=`; 401 "stale token" after),
/rpc (JSON-RPC 2.0: "echo" answered after params.delay ms, "never" never), /reject (403),
anything else 404; and the control channel on a port of its own: GET /connections?id=,
GET /refusals?id= and POST /restart?down=<ms>.

Prints `{"port": <ws port>, "control": <control port>}` on one stdout line once listening, and
exits when its stdin ends.
"""

import asyncio
import http
import json
import os
import re
import sys
from urllib.parse import parse_qs, urlsplit

try:
    from websockets.legacy.server import WebSocketServerProtocol, serve
except ImportError as error:  # the reason must reach the test's output
    sys.stderr.write(
        f"{sys.executable} cannot import websockets ({error}): install Debian's "
        "python3-websockets (apt-get install python3-websockets)\n"
    )
    sys.exit(3)

HOST = "127.0.0.1"
MAX_SIZE = 64 * 1024 * 1024
ROUTES = ("/", "/ws", "/once", "/rpc")

connections = []
refusals = []
tokens = set()
open_sockets = set()


def header_record(headers):
    """The request headers as a dict with names in lower case (repeated ones joined)."""
    record = {}
    for name, value in headers.raw_items():
        key = name.lower()
        record[key] = f"{record[key]}, {value}" if key in record else value
    return record


class AppProtocol(WebSocketServerProtocol):
    """Refuses what the routes refuse, and records what it accepts."""

    record = None

    async def process_request(self, path, request_headers):
        url = urlsplit(path)
        query = parse_qs(url.query)
        headers = header_record(request_headers)
        bearer = re.match(r"^Bearer (.+)$", headers.get("authorization", ""))
        token = bearer.group(1) if bearer else query.get("token", [""])[0]
        ident = query.get("id", [""])[0]

        def refuse(status, text):
            refusals.append(
                {"id": ident, "path": url.path, "status": status, "text": text, "token": token}
            )
            return http.HTTPStatus(status), [], text.encode()

        if url.path == "/reject":
            return refuse(403, "Forbidden")
        if url.path not in ROUTES:
            return refuse(404, "Not Found")
        if url.path == "/once":
            if token == "":
                return refuse(401, "no token")
            if token in tokens:
                return refuse(401, "stale token")
            tokens.add(token)
        self.record = {
            "id": ident,
            "path": url.path,
            "headers": headers,
            "protocol": "",
            "received": 0,
            "pings": [],
            "pongs": [],
            "close": None,
        }
        connections.append(self.record)
        return None

    def process_subprotocol(self, headers, available_subprotocols):
        """The first subprotocol offered, if any, as npm:ws chooses."""
        offered = [
            p.strip()
            for value in headers.get_all("Sec-WebSocket-Protocol")
            for p in value.split(",")
            if p.strip() != ""
        ]
        chosen = offered[0] if offered else None
        if self.record is not None:
            self.record["protocol"] = chosen or ""
        return chosen


async def answer_rpc(ws, data):
    try:
        request = json.loads(data)
    except ValueError:
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": None,
                                  "error": {"code": -32700, "message": "Parse error"}}))
        return
    ident = request.get("id")
    method = request.get("method")
    params = request.get("params") or {}
    if method == "never":
        return
    if method != "echo":
        await ws.send(json.dumps({"jsonrpc": "2.0", "id": ident,
                                  "error": {"code": -32601, "message": "Method not found"}}))
        return

    async def later():
        await asyncio.sleep((params.get("delay") or 0) / 1000)
        if ws.open:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": ident,
                                      "result": params.get("value")}))

    asyncio.ensure_future(later())


async def flood(ws, total, frame):
    chunk = bytes(i & 0xFF for i in range(frame))
    sent = 0
    try:
        while sent < total and ws.open:
            n = min(frame, total - sent)
            # send() waits while the transport's buffer is over its high-water mark.
            await ws.send(chunk[:n])
            sent += n
        if ws.open:
            await ws.send(f"flood done:{total}")
    except Exception:  # the connection ended mid-flood
        pass


async def answer(ws, message):
    """Answers one message (see app_routes.ts)."""
    if not isinstance(message, str):
        await ws.send(message)
        return
    if ws.record["path"] == "/rpc" and message.startswith("{"):
        await answer_rpc(ws, message)
        return
    match = re.match(r"^flood:([0-9]+):([0-9]+)$", message)
    if match:
        asyncio.ensure_future(flood(ws, int(match.group(1)), int(match.group(2))))
    elif message == "close":
        await ws.close(1000, "normal closure")
    elif message == "crash":
        ws.transport.abort()
    elif message.startswith("close:") and message[6:10].isdigit() and message[10:11] == ":":
        await ws.close(int(message[6:10]), message[11:])
    else:
        await ws.send(message)


async def handler(ws, _path=None):
    open_sockets.add(ws)
    try:
        async for message in ws:
            ws.record["received"] += 1
            await answer(ws, message)
    except Exception:  # a dropped connection ends the loop like a close
        pass
    finally:
        await ws.wait_closed()
        open_sockets.discard(ws)
        ws.record["close"] = {"code": ws.close_code, "reason": ws.close_reason or ""}


class Server:
    """The WebSocket server, restartable on the same port."""

    def __init__(self):
        self.current = None
        self.port = 0
        self.restarting = None

    async def listen(self):
        # A client that never answers our close (one failing its handshake, say) holds a
        # restart up for close_timeout: one second, not the library's ten.
        self.current = await serve(
            handler, HOST, self.port, create_protocol=AppProtocol, max_size=MAX_SIZE,
            close_timeout=1,
        )
        self.port = self.current.sockets[0].getsockname()[1]

    async def stop(self):
        # Stop listening first: a client reconnecting at once then finds nothing listening,
        # rather than this server, which would accept it and close it.
        self.current.server.close()
        closing = [ws.close(1001, "going away") for ws in list(open_sockets)]
        await asyncio.gather(*closing, return_exceptions=True)
        self.current.close()
        await self.current.wait_closed()

    async def restart(self, down):
        await self.stop()
        await asyncio.sleep(down / 1000)
        await self.listen()

    async def restart_once(self, down):
        """One restart at a time: a second request waits for the running one."""
        if self.restarting is None:
            self.restarting = asyncio.ensure_future(self.restart(down))
            self.restarting.add_done_callback(lambda _: setattr(self, "restarting", None))
        await asyncio.shield(self.restarting)


async def control_request(server, reader, writer):
    """One HTTP/1.1 request on the control channel; the answer closes the connection."""
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
        wanted = parse_qs(url.query).get("id", [""])[0]
        status, body = 404, {"error": "not found"}
        if url.path == "/connections" and method == "GET":
            status, body = 200, [c for c in connections if c["id"] == wanted]
        elif url.path == "/refusals" and method == "GET":
            status, body = 200, [r for r in refusals if r["id"] == wanted]
        elif url.path == "/restart" and method == "POST":
            try:
                down = float(parse_qs(url.query).get("down", ["0"])[0])
                await server.restart_once(down)
                status, body = 200, {"ok": True, "port": server.port}
            except Exception as error:
                status, body = 500, {"ok": False, "error": repr(error)}
        data = json.dumps(body).encode()
        writer.write(
            f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n".encode() + data
        )
        await writer.drain()
    finally:
        writer.close()


async def main():
    server = Server()
    await server.listen()
    control = await asyncio.start_server(
        lambda r, w: control_request(server, r, w), HOST, 0
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


asyncio.run(main())
