"""Where the players in the room can reach the server: the facilitator reads the address out with the join code.

A server listening on a loopback address is reachable from its own computer only; one listening on every
interface (`--host 0.0.0.0`) is reachable at each of the computer's network addresses, unless it runs in a
container, whose addresses are not the computer's: there `PUBLIC_URL` says what players open.
"""

from __future__ import annotations

import contextlib
import errno
import ipaddress
import socket
from pathlib import Path

WILDCARDS = ("0.0.0.0", "::", "")
"""Hosts that mean every interface."""

_OUTWARD = ("192.0.2.1", 9)
"""Any address off this computer: connecting a UDP socket to it sends nothing, it only picks the interface the
computer's route to the network leaves by (TEST-NET-1, RFC 5737, is never anyone's real address)."""

LOOPBACK_ONLY = (
    "Only this computer can reach the server: for players on other computers, restart it with "
    "wargame serve --host 0.0.0.0"
)
IN_A_CONTAINER = (
    "The server runs in a container, whose addresses players cannot open: set PUBLIC_URL to the address of the "
    "computer it runs on (http://192.168.…:8000)"
)
OFF_THE_NETWORK = "This computer has no network address: connect it to the room's network"


def own_address(server: tuple[str, int | None] | None, host: str, port: int) -> str:
    """Where this process reaches itself: the address a request came in on (`scope["server"]`; behind a proxy, the
    proxy's side), else the configured one; every interface is reached on loopback."""
    if not server or server[1] is None:
        server = (host, port)
    at = server[0] if server[0] not in WILDCARDS else "127.0.0.1"
    return f"http://[{at}]:{server[1]}" if ":" in at else f"http://{at}:{server[1]}"


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def in_a_container() -> bool:
    return Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()


def network_addresses() -> list[str]:
    """This computer's IPv4 addresses on its networks (neither loopback nor link-local), the one its route to the
    network leaves by first."""
    found: list[str] = []
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(_OUTWARD)
        found.append(probe.getsockname()[0])
    with contextlib.suppress(OSError):
        for *_, address in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET, socket.SOCK_STREAM):
            found.append(str(address[0]))
    addresses = (ipaddress.ip_address(a) for a in found)
    return list(dict.fromkeys(str(a) for a in addresses if not (a.is_loopback or a.is_link_local)))


def reach(host: str, port: int, public_url: str = "") -> tuple[list[str], str]:
    """The addresses players on other computers open, for a server listening on `host` and `port`; and, when
    there are none, what the facilitator can do about it."""
    if public_url:
        return [public_url], ""
    if is_loopback(host):
        return [], LOOPBACK_ONLY
    if host not in WILDCARDS:
        return [f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"], ""
    if in_a_container():
        return [], IN_A_CONTAINER
    urls = [f"http://{address}:{port}" for address in network_addresses()]
    return urls, "" if urls else OFF_THE_NETWORK


def port_taken(host: str, port: int) -> bool:
    """Whether another program already listens on `port` at `host`: a second `wargame serve`, or a web framework's
    development server on 8000.  Any other failure to bind is left for the server to report."""
    host = host.strip("[]")
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: a port in TIME_WAIT is free
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.errno == errno.EADDRINUSE
    return False
