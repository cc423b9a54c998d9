"""A lean HTTP/1.1 load generator for the benchmarks.

It shares the machine's two cores with the service and Neo4j, so what it spends per request is
taken from what it measures: httpx spent 2–3 ms of CPU per request here, more than a red-line
check. This client sends pre-built requests over keep-alive connections and reads just the
status line, headers and ``Content-Length`` body (about 0.2 ms per request).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

# Connections idle this long are not reused: uvicorn closes them at 5 s, and a request sent just
# as the close arrives fails though the service never saw it (seen as a lone "connection" failure
# in a six-minute run).
MAX_IDLE_S = 4.0

Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


class HttpFailure(Exception):
    """A response that was not 2xx, or a connection that broke."""


@dataclass
class KeepAlivePool:
    host: str
    port: int
    idle: list[tuple[Connection, float]] = field(default_factory=list)  # and when it went idle

    def post_json(self, path: str, body: object, headers: dict[str, str]) -> bytes:
        """The bytes of one POST request, built once and sent many times."""
        payload = json.dumps(body).encode()
        lines = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(payload)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send on an idle connection (or a new one); return status and body."""
        reader, writer = await self._connection()
        try:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = head.decode("latin-1").split("\r\n")
            status = int(status_line.split(" ", 2)[1])
            length = 0
            for line in header_lines:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, ValueError) as e:
            writer.close()
            raise HttpFailure(str(e)) from e
        self.idle.append(((reader, writer), time.monotonic()))
        return status, body

    async def _connection(self) -> Connection:
        """An idle connection the server has not closed and will not close now, or a new one.

        The server closes connections idle past its keep-alive timeout (uvicorn: 5 s); after a
        burst, the connections it needed sit idle that long. Like any HTTP client, skip those
        rather than send on them and count a failure the service did not cause."""
        now = time.monotonic()
        while self.idle:
            (reader, writer), since = self.idle.pop()
            if now - since < MAX_IDLE_S and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        for (_, writer), _ in self.idle:
            writer.close()
        self.idle.clear()
