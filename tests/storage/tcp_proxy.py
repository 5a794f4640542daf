"""A TCP proxy in front of PostgreSQL that misbehaves on demand, as networks do.

* ``stall()``: stop forwarding in both directions, sockets left open: a silently dead connection
  (a cable pulled, a NAT that forgot the flow). Nothing is refused, nothing arrives.
* ``refuse()``: cut every connection and close new ones as soon as they come (a database that is
  down); ``restore()`` ends it.
* ``drop_after(marker)``: forward the client's packet holding ``marker`` (say ``b"COMMIT"``), then
  close both sides before the server's answer comes back: the server did the work, the client cannot
  know it.

``client_packets`` counts what the clients sent (one packet per write on loopback: asyncpg writes
each request, and waits for its answer, so it counts round trips).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from sqlalchemy.engine import make_url


@dataclass
class Proxy:
    target_host: str
    target_port: int
    port: int = 0
    stalled: bool = False
    refusing: bool = False
    drop_marker: bytes | None = None
    dropped: int = 0
    client_packets: int = 0
    _server: asyncio.Server | None = None
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)
    # Connections cut after a marker: nothing more goes back to their client.
    _cut: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = field(default_factory=set)

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def url(self, database_url: str) -> str:
        """``database_url`` pointed at the proxy."""
        return (
            make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)
        )

    def stall(self) -> None:
        self.stalled = True

    def resume(self) -> None:
        self.stalled = False

    def refuse(self) -> None:
        self.refusing = True
        for writer in self._writers:
            writer.transport.abort()

    def restore(self) -> None:
        self.refusing = False

    def drop_after(self, marker: bytes) -> None:
        self.drop_marker = marker

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        for writer in self._writers:
            writer.close()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self.refusing:
            client_writer.transport.abort()
            return
        server_reader, server_writer = await asyncio.open_connection(self.target_host, self.target_port)
        self._writers += [client_writer, server_writer]
        pair = (client_writer, server_writer)
        for reader, writer, from_client in (
            (client_reader, server_writer, True),
            (server_reader, client_writer, False),
        ):
            task = asyncio.create_task(self._pipe(reader, writer, pair, from_client=from_client))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        pair: tuple[asyncio.StreamWriter, asyncio.StreamWriter],
        *,
        from_client: bool,
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                if from_client:
                    self.client_packets += 1
                while self.stalled:
                    await asyncio.sleep(0.01)
                if pair in self._cut:
                    return
                drop = from_client and self.drop_marker is not None and self.drop_marker in data
                if drop:
                    self.drop_marker = None
                    self._cut.add(pair)  # the server's answer must not reach the client
                writer.write(data)
                await writer.drain()
                if drop:
                    self.dropped += 1
                    # Give the server time to do what the packet asks, then cut both sides.
                    await asyncio.sleep(0.2)
                    for side in pair:
                        side.transport.abort()
                    return
        for side in pair:
            side.close()


async def start_proxy(database_url: str) -> Proxy:
    url = make_url(database_url)
    return await Proxy(url.host or "127.0.0.1", url.port or 5432).start()
