"""A real SMTP server for tests (aiosmtpd). Writes each message it accepts to
<dir>/<n>.eml and prints "READY <port>" once it listens. Rejects recipients whose
local part starts with "reject" with 550, to exercise permanent failures. An optional
third argument delays the 250 reply after the message is stored (milliseconds), to
open the window between a send and its acknowledgement."""
import asyncio
import socket
import sys
import threading
import time
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out: Path, delay_ms: int):
        self.out = out
        self.delay = delay_ms / 1000
        self.lock = threading.Lock()
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0].startswith("reject"):
            return "550 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.n += 1
            name = self.out / f"{time.time_ns()}-{self.n}.eml"
        tmp = name.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(name)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 Message accepted"


def main():
    out = Path(sys.argv[1])
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    delay_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    out.mkdir(parents=True, exist_ok=True)
    if port == 0:
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
    c = Controller(Sink(out, delay_ms), hostname="127.0.0.1", port=port)
    c.start()
    print(f"READY {port}", flush=True)
    try:
        threading.Event().wait()
    finally:
        c.stop()


if __name__ == "__main__":
    main()
