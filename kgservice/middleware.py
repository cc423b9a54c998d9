"""ASGI middleware: a request-body size limit enforced while reading, not after; and a bound on
requests in flight, so overload is answered at once with 503 instead of an unbounded queue."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class InFlightLimit:
    """At most ``limit`` requests in progress per process; beyond that, 503 with Retry-After.

    Past its capacity a worker only gets slower for everyone (measured: a decision queue grew to
    minutes); a prompt 503 lets callers retry, back off, or go to another replica. Health checks
    are never refused, so a load balancer still sees the process as alive."""

    def __init__(self, app: ASGIApp, limit: int, exempt: tuple[str, ...] = ("/v1/health",)) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            refusal = {"error": "overloaded", "detail": "the service is at capacity; retry shortly"}
            body = json.dumps(refusal).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"retry-after", b"1"),
                (b"content-length", str(len(body)).encode()),
            ]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        self.in_flight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_flight -= 1


class BodyLimit:
    """Reject bodies over ``limit`` bytes with 413, whether or not Content-Length is sent.

    When a streamed body crosses the limit, the 413 is sent at once and the application is told
    the client went away, so it stops reading; whatever it answers afterwards is dropped.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._reject(send)
            return
        seen = 0
        started = rejected = False

        async def limited_receive() -> Message:
            nonlocal seen, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    rejected = True
                    if not started:
                        await self._reject(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, guarded_send)

    async def _reject(self, send: Send) -> None:
        body = json.dumps(
            {"error": "payload_too_large", "detail": f"the request body exceeds {self.limit} bytes"}
        ).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
