"""A Python `websockets` test server for the portable suite (tests/portable_test.ts).

Run with Debian's interpreter, which has python3-websockets (10.4, the legacy asyncio server):

    /usr/bin/python3 tests/support/python_server.py

It answers what tests/support/server_routes.ts makes the other test servers answer, so the
portable cases run against it unchanged:

- the routes /ws, / (echo), /ws/auth (101 only with "authorization: Bearer ..."; else 401),
  /reject (403), anything else 404;
- the commands "close", "crash", "send_and_crash", "send_ping", "send_ping:<payload>",
  "close:<code>:<reason>", anything else echoed (text as text, binary as binary);
- `?protocols=a,b` picks the first subprotocol offered that is in that list (without it, none:
  the library's own default for a server that lists no subprotocols);
- the control channel on a port of its own: GET /connections?id=<id> (the JSON of
  server_routes.ts's connectionJson) and POST /restart?down=<ms> (closes every connection with
  1001 "going away", stops listening, listens again on the same port after <ms> ms).

Prints `{"port": <ws port>, "control": <control port>}` on one stdout line once listening, and
exits when its stdin ends. Everything else is the library's defaults (permessage-deflate
offered, its own ping answers), but the message size limit, raised to let 1 MiB echoes through.
"""

import asyncio
import http
import sys
from urllib.parse import parse_qs, urlsplit

from python_control import HOST, header_record, restart_answer, serve_until_stdin_ends

try:
    from websockets.frames import OP_PING, OP_PONG
    from websockets.legacy.server import WebSocketServerProtocol, serve
except ImportError as error:  # the reason must reach the test's output
    sys.stderr.write(
        f"{sys.executable} cannot import websockets ({error}): install Debian's "
        "python3-websockets (apt-get install python3-websockets)\n"
    )
    sys.exit(3)

# The largest case sends 1 MiB; the library's default limit is exactly that, so leave room.
MAX_SIZE = 16 * 1024 * 1024

# Every connection accepted, across restarts, as the control channel reports it.
connections = []
# The connections open now.
open_sockets = set()


def refusal(path, headers):
    """The (status, text) for an upgrade the routes refuse, or None."""
    if path == "/reject":
        return http.HTTPStatus.FORBIDDEN, "Forbidden"
    if path == "/ws/auth" and not headers.get("authorization", "").startswith("Bearer "):
        return http.HTTPStatus.UNAUTHORIZED, "Unauthorized"
    if path not in ("/ws", "/ws/auth", "/"):
        return http.HTTPStatus.NOT_FOUND, "Not Found"
    return None


def as_text(payload):
    return bytes(payload).decode("utf-8", errors="replace")


class RecordingProtocol(WebSocketServerProtocol):
    """The library's server protocol, recording what the control channel reports."""

    record = None

    async def process_request(self, path, request_headers):
        url = urlsplit(path)
        headers = header_record(request_headers)
        refused = refusal(url.path, headers)
        if refused is not None:
            status, text = refused
            return status, [], text.encode()
        self.record = {
            "id": parse_qs(url.query).get("id", [""])[0],
            "path": url.path,
            "headers": headers,
            "protocol": "",
            "received": 0,
            "pings": [],
            "pongs": [],
            "close": None,
        }
        # Recorded before the 101 goes out: a client may ask the control channel at once.
        connections.append(self.record)
        return None

    def process_subprotocol(self, headers, available_subprotocols):
        supported = parse_qs(urlsplit(self.path).query).get("protocols")
        if supported is None:
            return None
        offered = [
            p.strip()
            for value in headers.get_all("Sec-WebSocket-Protocol")
            for p in value.split(",")
            if p.strip() != ""
        ]
        wanted = supported[0].split(",")
        chosen = next((p for p in offered if p in wanted), None)
        if self.record is not None:
            self.record["protocol"] = chosen or ""
        return chosen

    async def read_frame(self, max_size):
        # The library answers pings and matches pongs itself, out of the handler's sight:
        # this is the one place every control frame passes.
        frame = await super().read_frame(max_size)
        if self.record is not None:
            if frame.opcode == OP_PING:
                self.record["pings"].append(as_text(frame.data))
            elif frame.opcode == OP_PONG:
                self.record["pongs"].append(as_text(frame.data))
        return frame


async def answer(ws, message):
    """Answers one message with the test commands (see server_routes.ts)."""
    if not isinstance(message, str):
        await ws.send(message)
    elif message == "close":
        await ws.close(1000, "normal closure")
    elif message == "crash":
        ws.transport.abort()
    elif message == "send_and_crash":
        await ws.send("push_this")
        await asyncio.sleep(0.01)
        ws.transport.abort()
    elif message == "send_ping":
        await ws.ping(b"ping")
    elif message.startswith("send_ping:"):
        await ws.ping(message[len("send_ping:"):].encode())
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
        # The close code the client sent (1005 for none, 1006 without a close frame).
        ws.record["close"] = {"code": ws.close_code, "reason": ws.close_reason or ""}


def start(port):
    return serve(
        handler,
        HOST,
        port,
        create_protocol=RecordingProtocol,
        max_size=MAX_SIZE,
    )


class Server:
    """The WebSocket server, restartable on the same port."""

    def __init__(self):
        self.current = None
        self.port = 0
        self.restarting = None

    async def listen(self):
        self.current = await start(self.port)
        self.port = self.current.sockets[0].getsockname()[1]

    async def stop(self):
        # The library's own shutdown closes with 1001 and no reason; the suite expects one.
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
    """The control channel: GET /connections?id=, POST /restart?down=<ms>."""
    if path == "/connections" and method == "GET":
        wanted = query.get("id", [""])[0]
        return 200, [c for c in connections if c["id"] == wanted]
    if path == "/restart" and method == "POST":
        return await restart_answer(server, query)
    return 404, {"error": "not found"}


async def main():
    server = Server()
    await serve_until_stdin_ends(server, lambda m, p, q: answer_control(server, m, p, q))


asyncio.run(main())
