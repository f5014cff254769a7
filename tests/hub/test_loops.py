"""The hub's periodic-work helper: order of calls and waits, the stop flag, sync and async work."""

from __future__ import annotations

import asyncio

from console.hub.loops import every, pause


async def test_work_runs_at_once_and_again_until_stopped() -> None:
    stop = asyncio.Event()
    calls: list[int] = []

    def work() -> None:
        calls.append(len(calls))
        if len(calls) == 3:
            stop.set()

    await asyncio.wait_for(every(stop, 0.0, work), 10)
    assert calls == [0, 1, 2]


async def test_wait_first_waits_one_period_and_a_set_flag_means_no_call() -> None:
    stop = asyncio.Event()
    calls: list[str] = []

    async def work() -> None:
        calls.append("work")

    task = asyncio.create_task(every(stop, 3600.0, work, wait_first=True))
    await asyncio.sleep(0)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert calls == []


async def test_async_work_is_awaited() -> None:
    stop = asyncio.Event()
    done: list[str] = []

    async def work() -> None:
        await asyncio.sleep(0)
        done.append("finished")
        stop.set()

    await asyncio.wait_for(every(stop, 3600.0, work), 10)
    assert done == ["finished"]


async def test_pause_returns_whether_stop_is_set() -> None:
    stop = asyncio.Event()
    assert await pause(stop, 0.0) is False
    stop.set()
    assert await pause(stop, 3600.0) is True
