"""NVIDIA GPUs through NVML (libnvidia-ml, shipped with the driver), read with ctypes.

Used only where the NVIDIA driver is loaded; NVML gives each GPU's name and memory, which the
driver's /proc files do not (the collector falls back to those when NVML cannot be loaded).
"""

from __future__ import annotations

import ctypes

from tongchou.v1 import common_pb2

LIBRARY = "libnvidia-ml.so.1"
_NAME_SIZE = 96  # NVML_DEVICE_NAME_V2_BUFFER_SIZE


class _Memory(ctypes.Structure):
    _fields_ = [
        ("total", ctypes.c_ulonglong),
        ("free", ctypes.c_ulonglong),
        ("used", ctypes.c_ulonglong),
    ]


def gpus(library: str = LIBRARY) -> list[common_pb2.Gpu] | None:
    """Every GPU NVML sees, or None when NVML cannot be loaded or initialised."""
    try:
        nvml = ctypes.CDLL(library)
    except OSError:
        return None
    if nvml.nvmlInit_v2() != 0:
        return None
    try:
        count = ctypes.c_uint()
        if nvml.nvmlDeviceGetCount_v2(ctypes.byref(count)) != 0:
            return None
        found = []
        for index in range(count.value):
            handle = ctypes.c_void_p()
            if nvml.nvmlDeviceGetHandleByIndex_v2(index, ctypes.byref(handle)) != 0:
                continue
            name = ctypes.create_string_buffer(_NAME_SIZE)
            if nvml.nvmlDeviceGetName(handle, name, _NAME_SIZE) != 0:
                continue
            memory = _Memory()
            total = (
                memory.total
                if nvml.nvmlDeviceGetMemoryInfo(handle, ctypes.byref(memory)) == 0
                else 0
            )
            found.append(
                common_pb2.Gpu(model=name.value.decode(errors="replace"), memory_bytes=total)
            )
        return found
    finally:
        nvml.nvmlShutdown()
