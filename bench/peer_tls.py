"""The iso15118 package's TLS server configuration, serving handshakes: the peer side of bench/tls.py.

Run with ``.venv-peer/bin/python`` in the charger's network namespace:
``peer_tls.py PORT PKI_PATH ENABLE_TLS_1_3 SECONDS``.  It builds the server context exactly as the
package's SECC does (``iso15118.shared.security.get_ssl_context(True)``: TLS 1.2 only with
ISO 15118-2's suites, or with ``ENABLE_TLS_1_3`` TLS 1.3 demanding the car's certificate) and
serves it with asyncio's streams, as its ``TCPServer`` does, on every address, for ``SECONDS``
(printing ``ready`` once it listens: importing the package takes seconds).  Without those
arguments (``make bench`` runs every bench/*.py) it says what it is and exits 0.
Not its whole SECC: that opens one TLS server per SDP request and closes it after the session
(seconds per connection), so timing hundreds of handshakes through it is not cheap.
"""

import asyncio
import os
import sys


async def serve(port: int, seconds: float) -> None:
    from iso15118.shared.security import get_ssl_context
    from iso15118.shared.settings import load_shared_settings

    load_shared_settings()
    context = get_ssl_context(True)
    if context is None:
        raise SystemExit("the package built no server context (PKI_PATH?)")

    async def drain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the car closes
        writer.close()

    server = await asyncio.start_server(drain, "::", port, ssl=context, reuse_address=True)
    print("ready", flush=True)  # bench/tls.py starts timing after this line
    async with server:
        await asyncio.sleep(seconds)


if __name__ == "__main__":
    if len(sys.argv) != 5:  # `make bench` runs every bench/*.py: this one only serves bench/tls.py
        print("bench/peer_tls.py is the peer side of bench/tls.py (run it there); nothing to time alone")
        raise SystemExit(0)
    os.environ["PKI_PATH"], os.environ["ENABLE_TLS_1_3"] = sys.argv[2], sys.argv[3]
    asyncio.run(serve(int(sys.argv[1]), float(sys.argv[4])))
