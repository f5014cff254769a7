"""A tiny DNS server on 127.0.0.1 (UDP, an ephemeral port) answering SRV questions from a
table the test controls; any other name is NXDOMAIN."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset


class SrvServer:
    def __init__(self) -> None:
        self.records: dict[str, list[str]] = {}  # name → "priority weight port target" rows
        self.questions: list[str] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.address = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="test-dns", daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            answer = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text()
            self.questions.append(name)
            rows = self.records.get(name)
            if rows is None or question.rdtype != dns.rdatatype.SRV:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            else:
                answer.answer.append(
                    dns.rrset.from_text_list(name, 30, dns.rdataclass.IN, dns.rdatatype.SRV, rows)
                )
            self._sock.sendto(answer.to_wire(), peer)

    @contextmanager
    def running(self) -> Iterator[SrvServer]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(5)
            self._sock.close()
