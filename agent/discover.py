"""Finding this site's relays by DNS: the SRV records `_tongchou-relay._tcp.<domain>`, in the
order RFC 2782 gives (lowest priority first, weighted at random within a priority). dnspython
is imported only when relay discovery is configured."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from agent.config import AgentConfig

log = logging.getLogger("tongchou.agent")

SERVICE = "_tongchou-relay._tcp"
LOOKUP_TIMEOUT = 3.0
MIN_TTL = 10.0  # answers are kept at least this long (and at most their TTL, up to MAX_TTL)
MAX_TTL = 300.0


@dataclass(frozen=True, slots=True)
class Srv:
    priority: int
    weight: int
    port: int
    target: str

    @property
    def address(self) -> str:
        host = self.target.rstrip(".")
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"


def rfc2782_order(records: list[Srv], rng: random.Random) -> list[Srv]:
    """Lowest priority first; within a priority, a weighted random order (weight 0 last-ish)."""
    out: list[Srv] = []
    for priority in sorted({r.priority for r in records}):
        pool = [r for r in records if r.priority == priority and r.target not in ("", ".")]
        while pool:
            total = sum(r.weight for r in pool)
            pick = rng.uniform(0, total) if total else 0.0
            for i, r in enumerate(pool):
                pick -= r.weight
                if pick <= 0 or i == len(pool) - 1:
                    out.append(pool.pop(i))
                    break
    return out


def lookup_srv(name: str, nameserver: str = "") -> tuple[list[Srv], float]:
    """The SRV records of `name` and their TTL; ([], MIN_TTL) when there are none or DNS fails
    (logged). `nameserver` "host:port" asks that server instead of the system's resolvers."""
    import dns.exception
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=not nameserver)
    if nameserver:
        host, _, port = nameserver.rpartition(":")
        resolver.nameservers = [host.strip("[]")]
        resolver.port = int(port)
    try:
        answer = resolver.resolve(name, "SRV", lifetime=LOOKUP_TIMEOUT)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        log.info("no relay announced at %s (no SRV record): reporting to the hub", name)
        return [], MIN_TTL
    except dns.exception.DNSException as err:
        log.warning("cannot look up relays at %s (%s): reporting to the hub", name, err)
        return [], MIN_TTL
    records = [Srv(r.priority, r.weight, r.port, r.target.to_text()) for r in answer]
    ttl = float(answer.rrset.ttl) if answer.rrset is not None else MIN_TTL
    return records, min(max(ttl, MIN_TTL), MAX_TTL)


@dataclass(slots=True)
class RelayFinder:
    """The relays to try, from DNS, looked up again when the answer's TTL has passed."""

    domain: str
    nameserver: str = ""
    rng: random.Random = field(default_factory=random.Random)
    lookup: Callable[[str, str], tuple[list[Srv], float]] = lookup_srv
    clock: Callable[[], float] = time.monotonic
    _cached: list[str] = field(default_factory=list)
    _until: float = 0.0

    @property
    def name(self) -> str:
        return f"{SERVICE}.{self.domain.rstrip('.')}"

    def relays(self) -> list[str]:
        """host:port of each relay, in the order to try them (blocking: call it on a thread)."""
        now = self.clock()
        if now >= self._until:
            records, ttl = self.lookup(self.name, self.nameserver)
            self._cached = [r.address for r in rfc2782_order(records, self.rng)]
            self._until = now + ttl
            if self._cached:
                log.info("relays at %s: %s", self.name, ", ".join(self._cached))
        return list(self._cached)


def relay_finder(config: AgentConfig, rng: random.Random) -> RelayFinder | None:
    """The finder of `config.relay_srv`'s relays, or None when discovery is off."""
    if not config.relay_srv:
        return None
    return RelayFinder(config.relay_srv, config.relay_dns, rng)
