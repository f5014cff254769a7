"""A new agent stream's certificate is checked against the revocations on a worker thread: a
frozen credentials store ends that stream UNAVAILABLE in time and never stalls the others."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import grpc

from console.documents import load_fleet
from console.security.tls import TlsFiles
from console.simulate.nodes import sim_node
from console.simulate.runner import Simulator
from tests.hostile.secure_hub import sqlite_of
from tongchou.v1 import agent_pb2

from .secure_hub import SAMPLE, Api


async def first_report(api: Api, name: str) -> tuple[grpc.StatusCode, str]:
    """Opens a stream with a new simulator certificate and sends one report."""
    fleet = load_fleet([SAMPLE])
    node = replace(fleet.nodes[sorted(fleet.nodes)[1]], name=name)
    issued = api.ca.issue("simulator", name)
    creds = TlsFiles(api.ca.cert_pem, issued.cert_pem, issued.key_pem).channel_credentials()
    async with grpc.aio.secure_channel(f"127.0.0.1:{api.hub.port}", creds) as channel:
        call = channel.stream_stream(
            "/tongchou.v1.AgentService/Connect",
            request_serializer=lambda b: b,
            response_deserializer=agent_pb2.ReportAck.FromString,
        )()
        try:
            await call.write(sim_node(fleet, node).report())
            await asyncio.wait_for(call.read(), 30)
        except grpc.aio.AioRpcError as err:
            code = err.code()
            assert code is not None
            return code, err.details() or ""
        call.cancel()
        return grpc.StatusCode.OK, ""


async def test_a_frozen_credentials_store_does_not_stall_ingest(api: Api, probe: Simulator) -> None:
    credentials = api.hub.credentials
    assert credentials is not None
    api.hub.ingest.store_seconds = 1.0
    held, release, released = threading.Event(), threading.Event(), threading.Event()

    def freeze() -> None:
        with sqlite_of(credentials)._lock:  # the store's file is frozen: every read waits
            held.set()
            release.wait(20)
            released.set()

    holder = threading.Thread(target=freeze, name="frozen-credentials")
    holder.start()
    held.wait(10)
    try:
        acks = probe.stats.acks
        code, details = await first_report(api, "late-1")
        assert not released.is_set(), "the event loop waited for the frozen store"
        assert code == grpc.StatusCode.UNAVAILABLE, details
        assert "revocation" in details and "within 1 s" in details
        for _ in range(100):
            if probe.stats.acks > acks + 2 or released.is_set():
                break
            await asyncio.sleep(0.05)
        assert not released.is_set() and probe.stats.acks > acks + 2
        assert api.hub.metrics.rejected.labels("store_unavailable")._value.get() == 1
    finally:
        release.set()
        holder.join()
    assert (await first_report(api, "late-2"))[0] == grpc.StatusCode.OK
    assert probe.stats.failures == 0
