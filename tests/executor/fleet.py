"""A small province for the executor's tests: clusters that name kubeconfig contexts. The
sites are the province's own data centers (in Guangzhou and Shenzhen), so the province's
workloads may use every cluster under the level-reuse guardrail."""

from __future__ import annotations

from pathlib import Path

BASE = """
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440000"}
spec: {name: 广东省, level: province}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440100"}
spec: {name: 广州市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Division
metadata: {name: "440300"}
spec: {name: 深圳市, level: city, parent: "440000"}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: gz-dc}
spec: {division: "440000", provider: tianyi-cloud}
---
apiVersion: tongchou.io/v1
kind: Site
metadata: {name: sz-dc}
spec: {division: "440000", provider: huawei-cloud}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: gz-a}
spec: {site: gz-dc, mlpsLevel: 3, shared: true, kubeContext: ctx-gz-a}
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: sz-b}
spec: {site: sz-dc, mlpsLevel: 3, shared: true, kubeContext: ctx-sz-b}
"""
THIRD = """
---
apiVersion: tongchou.io/v1
kind: Cluster
metadata: {name: qy-c}
spec: {site: gz-dc, mlpsLevel: 3, shared: true, kubeContext: ctx-qy-c}
"""
NODES = """
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: gz-a-hygon}
spec:
  cluster: gz-a
  arch: x86_64
  chip: hygon-7380
  count: 2
  capacity: {cpu: "32", memory: 128Gi}
---
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: sz-b-kunpeng}
spec:
  cluster: sz-b
  arch: aarch64
  chip: kunpeng-920
  count: 2
  capacity: {cpu: "32", memory: 128Gi}
"""
THIRD_NODES = """
---
apiVersion: tongchou.io/v1
kind: NodePool
metadata: {name: qy-c-loongson}
spec:
  cluster: qy-c
  arch: loongarch64
  chip: loongson-3c5000
  count: 1
  capacity: {cpu: "16", memory: 64Gi}
"""


def workload(name: str, owner: str, replicas: int, archs: str = "", cpu: str = "4") -> str:
    return f"""
---
apiVersion: tongchou.io/v1
kind: Workload
metadata: {{name: {name}}}
spec:
  owner: "{owner}"
  replicas: {replicas}
  resources: {{cpu: "{cpu}", memory: 8Gi}}
  image: registry.gd.gov.cn/{name}:1.0
  mlpsLevel: 3
""" + (f"  archs: [{archs}]\n" if archs else "")


def write(folder: Path, name: str, *texts: str) -> Path:
    path = folder / name
    parts = [t.strip().removeprefix("---").strip() for t in texts if t.strip()]
    path.write_text("\n---\n".join(parts) + "\n", encoding="utf-8")
    return path
