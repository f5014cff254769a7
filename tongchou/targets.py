"""Several hub addresses as one gRPC target: when the hub in use goes, the channel moves on."""

from __future__ import annotations

import ipaddress
import random
import socket

Option = tuple[str, str | int]


def split_addresses(text: str) -> list[str]:
    """`"hub-a:7470, hub-b:7470"` → the addresses; ValueError names an entry that is not
    host:port."""
    out = [part.strip() for part in text.split(",") if part.strip()]
    if not out:
        raise ValueError("no hub address given")
    for address in out:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"hub address {address!r} must be host:port")
    return out


def _resolve(address: str) -> list[str]:
    host, _, port = address.rpartition(":")
    bare = host.strip("[]")
    try:
        ip = ipaddress.ip_address(bare)
    except ValueError:
        infos = socket.getaddrinfo(bare, int(port), type=socket.SOCK_STREAM)
        return [
            f"[{info[4][0]}]:{port}" if info[0] == socket.AF_INET6 else f"{info[4][0]}:{port}"
            for info in infos
        ]
    return [f"[{ip}]:{port}" if ip.version == 6 else f"{ip}:{port}"]


def channel_target(text: str, *, shuffle: random.Random | None = None) -> tuple[str, list[Option]]:
    """The gRPC target and channel options for one or several addresses. One address is used
    as it is (gRPC resolves it, and a Service's name may stand for every replica). Several are
    resolved now into one `ipv4:`/`ipv6:` target under `pick_first`: the channel connects to
    the first that answers and, when it goes, to the next. `shuffle` spreads many agents over
    the replicas. TLS checks each hub's certificate against the first given address's host name, so
    replicas' certificates carry that name (e.g. the Service's)."""
    addresses = split_addresses(text)
    if len(addresses) == 1:
        return addresses[0], []
    name = addresses[0].rpartition(":")[0].strip("[]")
    if shuffle is not None:
        addresses = shuffle.sample(addresses, len(addresses))
    resolved: list[str] = []
    for address in addresses:
        for ip in _resolve(address):
            if ip not in resolved:
                resolved.append(ip)
    v4 = [a for a in resolved if not a.startswith("[")]
    target = f"ipv4:{','.join(v4)}" if v4 else f"ipv6:{','.join(resolved)}"
    options: list[Option] = [
        ("grpc.ssl_target_name_override", name),
        ("grpc.default_authority", name),
        ("grpc.lb_policy_name", "pick_first"),
    ]
    return target, options
