"""Python websockets peer: /echo echoes; any other path is a broadcast group
(to the others, and to the sender too with ?echo=1).
Usage: py_server.py PORT [PING_SECONDS]"""
import asyncio
import sys
from urllib.parse import urlsplit, parse_qs

import websockets

PORT = int(sys.argv[1])
PING = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
groups = {}


async def handler(socket, path=None):
    target = urlsplit(path if path is not None else socket.path)
    if target.path == "/echo":
        async for message in socket:
            await socket.send(message)
        return
    echo = parse_qs(target.query).get("echo") == ["1"]
    members = groups.setdefault(target.path, set())
    members.add(socket)
    try:
        async for message in socket:
            websockets.broadcast(members if echo else members - {socket}, message)
    finally:
        members.discard(socket)


async def main():
    async with websockets.serve(handler, "127.0.0.1", PORT, ping_interval=PING, max_size=2**20, compression=None):
        print("ready", flush=True)
        await asyncio.Future()


asyncio.run(main())
