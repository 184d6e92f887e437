"""A network receipt printer for the tests: a real TCP listener on 127.0.0.1 (port 9100 style)
that reads the ESC/POS bytes each connection sends and decodes the tickets printed (text lines,
one ticket per paper cut), as a kitchen's printer would print them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

ESC, GS = 0x1B, 0x1D
# Parameter bytes of the commands python-escpos sends for text, styles and cuts.
ESC_PARAMS = {ord("@"): 0, ord("p"): 3}  # others: one
CUT = ord("V")


def decode(raw: bytes) -> list[list[str]]:
    """The tickets in ``raw``: each a list of its printed lines, ended by a cut."""
    tickets: list[list[str]] = []
    text = bytearray()
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte == ESC and i + 1 < len(raw):
            i += 2 + ESC_PARAMS.get(raw[i + 1], 1)
        elif byte == GS and i + 1 < len(raw):
            command = raw[i + 1]
            if command == CUT:
                mode = raw[i + 2] if i + 2 < len(raw) else 0
                i += 4 if mode in (65, 66, 97, 98) else 3
                tickets.append(text.decode("latin-1").splitlines())
                text.clear()
            else:
                i += 3
        else:
            text.append(byte)
            i += 1
    if text.strip():
        tickets.append(text.decode("latin-1").splitlines())  # printed, never cut
    return tickets


class Printer:
    """What one printer has printed, connection by connection."""

    def __init__(self) -> None:
        self.received: list[bytes] = []

    @property
    def tickets(self) -> list[list[str]]:
        return [ticket for raw in self.received for ticket in decode(raw)]

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.received.append(await reader.read())  # until the sender closes
        writer.close()


@contextlib.asynccontextmanager
async def printer_on(port: int) -> AsyncIterator[Printer]:
    printer = Printer()
    server = await asyncio.start_server(printer._connected, "127.0.0.1", port)
    try:
        yield printer
    finally:
        server.close()
        await server.wait_closed()
