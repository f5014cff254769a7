"""Scaling a workload and reading its stored document over the guarded API: the role and the
scope are checked, the change is audited, and the rest of the document stays as submitted."""

from __future__ import annotations

import grpc

from console.documents.placement import MAX_REPLICAS

from .test_authz import Api, api, code_of

__all__ = ["api"]  # the fixture, shared with the guard's own tests

DOCUMENT = """\
# the province portal: three replicas in the daytime
apiVersion: tongchou.io/v1
kind: Workload
metadata: {name: gz-portal}
spec:
  owner: "440100"   # 广州市
  replicas: 1  # raised by the console when needed
  resources: {cpu: "1", memory: 1Gi}
  image: registry.example/app:1
  mlpsLevel: 2
"""


async def test_an_operator_scales_a_workload_and_the_change_is_stored_and_audited(
    api: Api,
) -> None:
    province = api.client("province-op")
    await province.submit_workload(DOCUMENT)
    status = await province.scale_workload("gz-portal", 4)
    assert status.replicas == 4
    assert sum(p.replicas for p in status.placed) + status.pending == 4
    stored = await province.workload_document("gz-portal")
    assert stored == DOCUMENT.replace("replicas: 1  #", "replicas: 4  #")
    assert api.hub.workloads.records["gz-portal"].workload.replicas == 4
    (row,) = [r for r in api.hub.store.load_workloads() if r.name == "gz-portal"]
    assert row.document == stored  # what a restart reads back
    assert api.hub.audit is not None
    api.hub.audit_flush()
    scaled = [
        (r.actor, r.object, r.outcome)
        for r in api.hub.audit.records()
        if r.action == "workload.scale"
    ]
    assert scaled == [("user:province-op", "workload/gz-portal", "ok")]


async def test_scaling_is_role_checked_scoped_and_bounded(api: Api) -> None:
    province = api.client("province-op")
    await province.submit_workload(DOCUMENT)
    county, viewer = api.client("county-op"), api.client("county-viewer")
    # outside the county's subtree the workload does not exist, as an unknown one does not
    assert await code_of(county.scale_workload("gz-portal", 2)) == grpc.StatusCode.NOT_FOUND
    assert await code_of(county.workload_document("gz-portal")) == grpc.StatusCode.NOT_FOUND
    assert await code_of(province.scale_workload("nope", 2)) == grpc.StatusCode.NOT_FOUND
    assert await code_of(viewer.scale_workload("gz-portal", 2)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    try:
        await province.scale_workload("gz-portal", MAX_REPLICAS + 1)
    except grpc.aio.AioRpcError as err:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "gz-portal" in (err.details() or "")
        assert "spec.replicas" in (err.details() or "")
    else:
        raise AssertionError("a count above the bound was taken")
    assert api.hub.workloads.records["gz-portal"].workload.replicas == 1
    assert (await api.client("county-viewer").workloads()) == []
