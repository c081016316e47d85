"""``educonnect-tui serve``: the TUI in a browser, behind a reverse proxy (``web.py``)."""

from __future__ import annotations

import argparse
import errno
import socket

from . import context
from .arguments import fail


def _bind_problem(host: str, port: int, error: OSError) -> str:
    if isinstance(error, socket.gaierror):
        return f"adresse d'écoute « {host[:80]} » inconnue"
    if error.errno == errno.EADDRINUSE:
        return f"le port {port} est déjà utilisé sur {host}\u00a0: choisissez-en un autre (--port)"
    if error.errno == errno.EACCES:
        return f"le port {port} est réservé à root\u00a0: choisissez un port au-dessus de 1023"
    if error.errno == errno.EADDRNOTAVAIL:
        return f"l'adresse {host} n'est pas celle de cette machine"
    return f"impossible d'écouter sur {host}:{port}\u00a0: {error.strerror or error}"


def cmd_serve(args: argparse.Namespace) -> int:
    from .. import web

    # The database and the settings are checked before anyone connects: a browser would
    # otherwise only see a session that ends at once.
    services = context.open_services()
    context.require_schema(services)
    services.check_keys()
    trusted = list(services.settings.trusted_proxies)
    services.engine.dispose()
    try:
        sock = web.bind(args.host, args.port)
    except OSError as error:
        fail(_bind_problem(args.host, args.port, error))
    host, port = sock.getsockname()[:2]
    listening = web.Listening(
        host=str(host),
        port=int(port),
        public_url=args.public_url or web.local_url(str(host), int(port)),
    )
    server = web.EduConnectServer(listening, trusted, max_sessions=args.max_sessions)
    server.serve_on(sock)
    return 0
