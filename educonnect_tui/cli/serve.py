"""``educonnect-tui serve``: the TUI in a browser, behind a reverse proxy (``web.py``)."""

from __future__ import annotations

import argparse
import errno
import socket
from pathlib import Path

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


def _socket_problem(path: Path, group: int | None, error: OSError) -> str:
    if error.errno == errno.EPERM and group is not None:
        import grp

        name = grp.getgrgid(group).gr_name
        return (
            f"la socket {path} ne peut pas être donnée au groupe « {name} »\u00a0: "
            f"le compte du service doit en être membre (SupplementaryGroups={name})"
        )
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"impossible de créer la socket {path}\u00a0: dossier non modifiable par ce compte"
    if error.errno == errno.EADDRINUSE:
        return f"« {path} » vient d'être pris par un autre processus\u00a0: rien n'a été supprimé"
    return f"impossible d'écouter sur la socket {path}\u00a0: {error.strerror or error}"


def _check_usage(args: argparse.Namespace) -> None:
    if args.socket is not None:
        if args.host is not None or args.port is not None:
            fail("--socket remplace --host et --port\u00a0: donnez l'un ou les autres")
        if args.public_url is None:
            fail(
                "--socket demande --public-url, l'adresse que tapent les navigateurs "
                "(ex. https://educonnect.example.fr)"
            )
    elif args.socket_group is not None:
        fail("--socket-group ne va qu'avec --socket")


def cmd_serve(args: argparse.Namespace) -> int:
    from .. import web

    _check_usage(args)
    # The database and the settings are checked before anyone connects: a browser would
    # otherwise only see a session that ends at once.
    services = context.open_services()
    context.require_schema(services)
    services.check_keys()
    trusted = list(services.settings.trusted_proxies)
    services.engine.dispose()
    if args.socket is not None:
        try:
            sock = web.bind_unix(args.socket, args.socket_group)
        except web.SocketRefused as refused:
            fail(str(refused))
        except OSError as error:
            fail(_socket_problem(args.socket, args.socket_group, error))
        listening = web.Listening(
            host="", port=0, public_url=args.public_url, socket_path=args.socket
        )
    else:
        host_given = args.host or "127.0.0.1"
        port_given = 8000 if args.port is None else args.port
        try:
            sock = web.bind(host_given, port_given)
        except OSError as error:
            fail(_bind_problem(host_given, port_given, error))
        host, port = sock.getsockname()[:2]
        listening = web.Listening(
            host=str(host),
            port=int(port),
            public_url=args.public_url or web.local_url(str(host), int(port)),
        )
    server = web.EduConnectServer(listening, trusted, max_sessions=args.max_sessions)
    server.serve_on(sock)
    return 0
