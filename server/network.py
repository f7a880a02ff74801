"""Where the players in the room can reach the server: the facilitator reads the address out with the join code.

A server listening on a loopback address is reachable from its own computer only; one listening on every
interface (`--host 0.0.0.0`) is reachable at each of the computer's network addresses.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket

WILDCARDS = ("0.0.0.0", "::", "")
"""Hosts that mean every interface."""

_OUTWARD = ("192.0.2.1", 9)
"""Any address off this computer: connecting a UDP socket to it sends nothing, it only picks the interface the
computer's route to the network leaves by (TEST-NET-1, RFC 5737, is never anyone's real address)."""


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def others_can_reach(host: str) -> bool:
    """Whether a server listening on `host` can be reached from other computers."""
    return not is_loopback(host)


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
    usable = [a for a in found if not (ipaddress.ip_address(a).is_loopback or ipaddress.ip_address(a).is_link_local)]
    return list(dict.fromkeys(usable))


def room_urls(host: str, port: int) -> list[str]:
    """The addresses players on other computers open, for a server listening on `host` and `port`."""
    if not others_can_reach(host):
        return []
    hosts = network_addresses() if host in WILDCARDS else [host]
    return [f"http://{h}:{port}" if ":" not in h else f"http://[{h}]:{port}" for h in hosts]
