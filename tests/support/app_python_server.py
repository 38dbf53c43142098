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
import re
import sys
from urllib.parse import parse_qs, urlsplit

from python_control import HOST, header_record, restart_answer, serve_until_stdin_ends

try:
    from websockets.legacy.server import WebSocketServerProtocol, serve
except ImportError as error:  # the reason must reach the test's output
    sys.stderr.write(
        f"{sys.executable} cannot import websockets ({error}): install Debian's "
        "python3-websockets (apt-get install python3-websockets)\n"
    )
    sys.exit(3)

MAX_SIZE = 64 * 1024 * 1024
ROUTES = ("/", "/ws", "/once", "/rpc")

connections = []
refusals = []
tokens = set()
open_sockets = set()


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


async def answer_control(server, method, path, query):
    """The control channel: GET /connections?id=, GET /refusals?id=, POST /restart?down=<ms>."""
    wanted = query.get("id", [""])[0]
    if path == "/connections" and method == "GET":
        return 200, [c for c in connections if c["id"] == wanted]
    if path == "/refusals" and method == "GET":
        return 200, [r for r in refusals if r["id"] == wanted]
    if path == "/restart" and method == "POST":
        return await restart_answer(server, query)
    return 404, {"error": "not found"}


async def main():
    server = Server()
    await serve_until_stdin_ends(server, lambda m, p, q: answer_control(server, m, p, q))


asyncio.run(main())
