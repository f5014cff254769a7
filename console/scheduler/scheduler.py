"""The scheduler: filter → fit estimate → score → divide, one workload at a time.

Speed comes from what each policy reads (console.policy.refs): a policy that reads only
some workload fields and static cluster fields is evaluated once per distinct value of
those fields, for every cluster, and reused; one that reads allocation is re-evaluated
only for clusters whose allocation changed; only a policy that reads `fit` runs per
workload. Fit is one vectorised pass over every node.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from console.model.fleet import Fleet
from console.model.workload import PlacementPolicy, PolicyForm, Workload
from console.policy import Compiled, compile_expression
from console.scheduler.cause import Explainer, Funnel, Rule
from console.scheduler.divide import Candidate, divide
from console.scheduler.result import ClusterVerdict, Placement, PolicyEffect
from console.scheduler.snapshot import Snapshot
from tongchou.divisions import ancestors, level_of
from tongchou.v1 import policy_pb2

BALANCE = "balance"
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    policy: PlacementPolicy
    match: Compiled
    expression: Compiled
    position: int


def compile_policies(policies: Iterable[PlacementPolicy]) -> list[CompiledPolicy]:
    """Compiles every policy (errors were reported when the documents were loaded)."""
    return [
        CompiledPolicy(p, compile_expression(p.match), compile_expression(p.expression), i)
        for i, p in enumerate(policies)
    ]


def workload_message(w: Workload) -> policy_pb2.PolicyWorkload:
    """The CEL `workload` variable of a workload."""
    message = policy_pb2.PolicyWorkload(
        name=w.name,
        owner=w.owner,
        ownerLevel=level_of(w.owner).value,
        ownerAncestors=list(ancestors(w.owner)),
        replicas=w.replicas,
        cpu=w.cpu_milli / 1000,
        memory=w.memory_bytes,
        image=w.image,
        mlpsLevel=w.mlps_level,
        archs=list(w.archs),
        chips=list(w.chips),
        residency=w.residency or "",
        priority=w.priority,
        dataClass=w.data_class.value,
    )
    message.spread.minSites = w.min_sites
    message.labels.update(w.labels)
    return message


def _key_value(message: policy_pb2.PolicyWorkload, field: str) -> object:
    value = getattr(message, field)
    if field == "labels":
        return tuple(sorted(value.items()))
    if field == "spread":
        return value.minSites
    if isinstance(value, str | int | float | bool):
        return value
    return tuple(value)


class Scheduler:
    """Places workloads on a snapshot of the fleet under compiled policies."""

    def __init__(self, fleet: Fleet, policies: Sequence[PlacementPolicy]) -> None:
        self.snapshot = Snapshot(fleet)
        self.policies = compile_policies(policies)
        self._vectors: dict[tuple[int, object], tuple[FloatArray, npt.NDArray[np.int64]]] = {}
        self._scalars: dict[tuple[object, ...], object] = {}
        self.evaluations = 0
        self._ordered_fields: dict[frozenset[str], tuple[str, ...]] = {}
        self._complete: set[tuple[int, object]] = set()
        self._mask: npt.NDArray[np.bool_] = np.ones(0, np.bool_)

    # -- policy evaluation -------------------------------------------------------------

    def _key(self, compiled: Compiled, w: policy_pb2.PolicyWorkload) -> object:
        fields = compiled.refs.workload_fields
        if fields is None:
            return w.SerializeToString(deterministic=True)
        ordered = self._ordered_fields.get(fields)
        if ordered is None:
            ordered = self._ordered_fields[fields] = tuple(sorted(fields))
        return tuple(_key_value(w, f) for f in ordered)

    def _scalar(
        self, p: CompiledPolicy, which: str, compiled: Compiled, w: policy_pb2.PolicyWorkload
    ) -> object:
        key = (p.position, which, self._key(compiled, w))
        if key not in self._scalars:
            self.evaluations += 1
            try:
                self._scalars[key] = compiled.evaluate(
                    self.snapshot.activation(0, w) if self.snapshot.clusters else None
                )
            except ValueError:
                self._scalars[key] = None
        return self._scalars[key]

    def _vector(
        self,
        p: CompiledPolicy,
        w: policy_pb2.PolicyWorkload,
        fit: npt.NDArray[np.int64],
        needed: npt.NDArray[np.bool_],
    ) -> FloatArray:
        """The policy's value on the `needed` clusters (others may be stale); NaN where
        evaluation failed. Results are cached by the workload fields the policy reads; a
        policy reading allocation is evaluated again only where allocation changed."""
        snap = self.snapshot
        count = len(snap.clusters)
        compiled = p.expression
        if compiled.refs.fit and not compiled.refs.cluster_side:
            # A function of the workload fields and `fit` alone: one evaluation per fit value.
            out = np.full(count, np.nan)
            wanted = np.flatnonzero(needed)
            for value in np.unique(fit[wanted]).tolist():
                fit_key = (p.position, "fit", self._key(compiled, w), value)
                if fit_key not in self._scalars:
                    self.evaluations += 1
                    try:
                        result = compiled.evaluate(snap.activation(0, w, value))
                    except ValueError:
                        result = math.nan
                    self._scalars[fit_key] = result
                result = self._scalars[fit_key]
                out[wanted[fit[wanted] == value]] = (
                    float(result) if isinstance(result, int | float) else math.nan
                )
            return out
        if compiled.refs.fit:
            out = np.full(count, np.nan)
            return self._evaluate(p, w, np.flatnonzero(needed).tolist(), fit, out)
        key = (p.position, self._key(compiled, w))
        cached = self._vectors.get(key)
        if cached is None:
            # versions: the cluster version each value was computed at; -1 not computed yet
            cached = (np.full(count, np.nan), np.full(count, -1, np.int64))
            self._vectors[key] = cached
        values, versions = cached
        if compiled.refs.dynamic:
            stale = np.flatnonzero(needed & (versions != snap.version))
            if stale.size:
                self._evaluate(p, w, stale.tolist(), fit, values)
                versions[stale] = snap.version[stale]
            return values
        if key in self._complete:
            return values
        stale_mask = needed & (versions < 0)
        if stale_mask.any():
            # Clusters alike in every field the policy reads share one evaluation.
            group_of, representatives = snap.groups(compiled.refs.cluster_fields)
            for group in np.unique(group_of[stale_mask]).tolist():
                first = representatives[group]
                self._evaluate(p, w, [first], fit, values)
                members = group_of == group
                values[members] = values[first]
                versions[members] = 0
            if (versions >= 0).all():
                self._complete.add(key)
        return values

    def _evaluate(
        self, p: CompiledPolicy, w: policy_pb2.PolicyWorkload, clusters: Iterable[int],
        fit: npt.NDArray[np.int64], out: FloatArray,
    ) -> FloatArray:  # fmt: skip
        for i in clusters:
            self.evaluations += 1
            try:
                value = p.expression.evaluate(self.snapshot.activation(i, w, int(fit[i])))
            except ValueError:
                value = math.nan
            out[i] = float(value) if isinstance(value, int | float) else math.nan
        return out

    # -- one workload ------------------------------------------------------------------

    def place(self, workload: Workload, *, explain: bool = False) -> Placement:
        snap = self.snapshot
        count = len(snap.clusters)
        w = workload_message(workload)
        mask = snap.node_mask(workload.archs, workload.chips)
        self._mask = mask
        per_node, by_cpu, by_memory = snap.per_node_fit(
            workload.cpu_milli, workload.memory_bytes, mask
        )
        fit = snap.sum_by_cluster(per_node)
        alive = np.ones(count, np.bool_)
        # the policy that removed each cluster: its position, or -2 fit, -3 limit, -4 no nodes
        removed_by = np.full(count, -1, np.int64)
        limit_by = np.full(count, -1, np.int64)
        terms: dict[str, FloatArray] = {}
        min_sites = 1  # raised only by `spread` policies
        empty = snap.node_counts == 0
        removed_by[empty] = -4
        alive &= ~empty
        active = [p for p in self.policies if self._scalar(p, "match", p.match, w) is True]
        for p in active:
            form = p.policy.form
            if form is PolicyForm.REQUIRE:
                ok = self._vector(p, w, fit, alive) == 1.0
                newly = alive & ~ok
                removed_by[newly] = p.position
                alive &= ok
            elif form is PolicyForm.SPREAD:
                value = self._scalar(p, "spread", p.expression, w)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    min_sites = max(min_sites, int(value))
        no_fit = alive & (fit <= 0)
        removed_by[no_fit] = -2
        alive &= fit > 0
        cap = np.where(alive, fit, 0)
        limits: dict[int, Rule] = {}
        for p in active:
            if p.policy.form is PolicyForm.LIMIT:
                limit = self._vector(p, w, fit, alive)
                limits[p.position] = Rule(p.policy.name, p.policy.message, values=limit.copy())
                bounded = np.where(
                    alive & ~np.isnan(limit), np.floor(np.maximum(limit, 0)), 0
                ).astype(np.int64)
                lower = alive & (bounded < cap)
                limit_by[lower] = p.position
                cap = np.where(alive, np.minimum(cap, bounded), 0)
        capped = alive & (cap <= 0)
        removed_by[capped] = -3
        alive &= cap > 0
        candidates = np.flatnonzero(alive)
        score = np.ones(count)
        if candidates.size:
            for p in active:
                if p.policy.form is PolicyForm.PREFER:
                    raw = self._vector(p, w, fit, alive)[candidates]
                    raw = np.where(
                        np.isnan(raw), np.nanmin(raw) if not np.all(np.isnan(raw)) else 0, raw
                    )
                    lo, hi = float(raw.min()), float(raw.max())
                    norm = (raw - lo) / (hi - lo) * 100 if hi > lo else np.full(raw.shape, 100.0)
                    term = np.zeros(count)
                    term[candidates] = norm * p.policy.weight
                    terms[p.policy.name] = term
                    score += term
            used_cpu = (snap.allocated_cpu + workload.cpu_milli) / np.maximum(snap.capacity_cpu, 1)
            used_memory = (snap.allocated_memory + workload.memory_bytes) / np.maximum(
                snap.capacity_memory, 1
            )
            balance = np.clip(100 * (1 - np.maximum(used_cpu, used_memory)), 0, 100)
            terms[BALANCE] = balance
            score += balance
        division = divide(
            workload.replicas,
            [
                Candidate(snap.clusters[i], snap.sites[i], float(score[i]), int(cap[i]))
                for i in candidates
            ],
            min_sites,
        )
        placed = division.replicas.total
        pending = workload.replicas - placed
        # each `require` on its own, before this workload's replicas change the allocation
        requires = self._requires(active, w, fit) if pending else []
        cpu_share = snap.allocated_cpu / np.maximum(snap.capacity_cpu, 1)
        memory_share = snap.allocated_memory / np.maximum(snap.capacity_memory, 1)
        for name, n in sorted(division.replicas.items()):
            snap.commit(snap.index[name], n, workload.cpu_milli, workload.memory_bytes, mask)
        funnel = Funnel(
            workload, requires, limits, mask, fit, cap, limit_by, candidates, placed,
            cpu_share, memory_share,
        )  # fmt: skip
        cause = Explainer(snap, funnel).cause() if pending else ""
        summary = (
            self._summary(removed_by, limit_by, by_cpu, by_memory, mask, count)
            if pending or explain
            else ""
        )
        reason = ""
        if division.spread_short and workload.replicas < min_sites:
            reason = (
                f"spread: needs {min_sites} sites, but the workload has only "
                f"{workload.replicas} replicas"
            )
        elif division.spread_short:
            held = Explainer(snap, funnel).limited()
            reason = (
                f"spread: needs {min_sites} sites, {len(division.spread_sites)} eligible"
                + (f" ({', '.join(division.spread_sites)})" if division.spread_sites else "")
                + (f"; {held}" if held else "")
                + (f"; {summary}" if summary else "")
            )
        elif pending and not candidates.size:
            reason = f"{cause}; {summary}" if cause and summary else cause or summary
        elif pending:
            reason = cause or f"only {placed} of {workload.replicas} fit: " + self._held(
                candidates, fit, cap, limit_by
            )
        result = Placement(
            workload.name, workload.replicas, division.replicas, pending, reason, summary
        )
        if explain:
            result.verdicts = self._verdicts(
                removed_by, limit_by, fit, cap, terms, score, division.replicas, by_cpu, by_memory
            )
        return result

    def _requires(
        self, active: list[CompiledPolicy], w: policy_pb2.PolicyWorkload, fit: npt.NDArray[np.int64]
    ) -> list[Rule]:
        """Each active `require` policy evaluated alone on every cluster with nodes."""
        with_nodes = self.snapshot.node_counts > 0
        out = []
        for p in active:
            if p.policy.form is PolicyForm.REQUIRE:
                fails = with_nodes & (self._vector(p, w, fit, with_nodes) != 1.0)
                out.append(Rule(p.policy.name, p.policy.message, fails=fails))
        return out

    def effects(self, workloads: Sequence[Workload]) -> list[PolicyEffect]:
        """For each policy, evaluated alone: the workloads it binds, and the clusters (with
        nodes) it removes for at least one of them: `require` false, or `limit` below one."""
        snap = self.snapshot
        with_nodes = snap.node_counts > 0
        messages = [(w, workload_message(w)) for w in workloads]
        out = []
        for p in self.policies:
            effect = PolicyEffect(p.policy.name)
            removed = np.zeros(len(snap.clusters), np.bool_)
            for workload, w in messages:
                if self._scalar(p, "match", p.match, w) is not True:
                    continue
                effect.workloads_matched += 1
                form = p.policy.form
                if form not in (PolicyForm.REQUIRE, PolicyForm.LIMIT):
                    continue
                mask = snap.node_mask(workload.archs, workload.chips)
                per_node, _, _ = snap.per_node_fit(workload.cpu_milli, workload.memory_bytes, mask)
                values = self._vector(p, w, snap.sum_by_cluster(per_node), with_nodes)
                if form is PolicyForm.REQUIRE:
                    mine = with_nodes & (values != 1.0)
                else:
                    mine = with_nodes & ~(np.nan_to_num(values, nan=0.0) >= 1)
                effect.removed_each.append(int(mine.sum()))
                removed |= mine
            effect.removed = sorted(snap.clusters[i] for i in np.flatnonzero(removed))
            out.append(effect)
        return out

    def refusals(self, workload: Workload) -> list[str]:
        """For every cluster (snapshot order), the `require` policy that removes it for this
        workload, or "" where all pass; clusters without nodes are judged too. Fit and
        capacity are not considered (`fit` reads as 0): the planner sizes those itself."""
        count = len(self.snapshot.clusters)
        w = workload_message(workload)
        alive = np.ones(count, np.bool_)
        fit = np.zeros(count, np.int64)
        out = [""] * count
        for p in self.policies:
            if p.policy.form is not PolicyForm.REQUIRE:
                continue
            if self._scalar(p, "match", p.match, w) is not True:
                continue
            ok = self._vector(p, w, fit, alive) == 1.0
            for i in np.flatnonzero(alive & ~ok).tolist():
                out[i] = p.policy.name
            alive &= ok
        return out

    def schedule(self, workloads: Iterable[Workload], *, explain: bool = False) -> list[Placement]:
        """Places workloads by priority (highest first), then name."""
        ordered = sorted(workloads, key=lambda w: (-w.priority, w.name))
        return [self.place(w, explain=explain) for w in ordered]

    # -- explanation -------------------------------------------------------------------

    def _policy_label(self, position: int) -> tuple[str, str]:
        policy = self.policies[position].policy
        return policy.name, policy.message

    def _held(
        self,
        candidates: npt.NDArray[np.int64],
        fit: npt.NDArray[np.int64],
        cap: npt.NDArray[np.int64],
        limit_by: npt.NDArray[np.int64],
    ) -> str:
        """Why the candidates took no more: full, or held by a limit policy."""
        held: Counter[str] = Counter()
        for i in candidates.tolist():
            if cap[i] < fit[i] and limit_by[i] >= 0:
                held[f"held by {self._policy_label(int(limit_by[i]))[0]}"] += 1
            else:
                held["full"] += 1
        return ", ".join(
            f"{n} {'cluster' if n == 1 else 'clusters'} {why}" for why, n in sorted(held.items())
        )

    def _fit_reason(
        self, i: int, by_cpu: npt.NDArray[np.int64], by_memory: npt.NDArray[np.int64]
    ) -> str:
        snap = self.snapshot
        lo, hi = snap.ranges[i]
        if hi == lo:
            return "no ready nodes"
        if not self._mask[lo:hi].any():
            return "no allowed node"
        if not by_cpu[lo:hi].any() and by_memory[lo:hi].any():
            return "insufficient cpu"
        if not by_memory[lo:hi].any() and by_cpu[lo:hi].any():
            return "insufficient memory"
        if not by_cpu[lo:hi].any():
            return "insufficient cpu and memory"
        return "no node has both cpu and memory"

    def _summary(
        self, removed_by: npt.NDArray[np.int64], limit_by: npt.NDArray[np.int64],
        by_cpu: npt.NDArray[np.int64], by_memory: npt.NDArray[np.int64],
        mask: npt.NDArray[np.bool_], count: int,
    ) -> str:  # fmt: skip
        reasons: Counter[str] = Counter()
        codes, counts = np.unique(removed_by[removed_by != -1], return_counts=True)
        for code, n in zip(codes.tolist(), counts.tolist(), strict=True):
            if code >= 0:
                reasons[self._policy_label(code)[1]] += n
            elif code == -4:
                reasons["no ready nodes"] += n
            elif code == -3:
                for i in np.flatnonzero(removed_by == -3).tolist():
                    position = int(limit_by[i])
                    reasons[self._policy_label(position)[1] if position >= 0 else "limit"] += 1
            else:
                snap = self.snapshot
                for i in np.flatnonzero(removed_by == -2).tolist():
                    lo, hi = snap.ranges[i]
                    allowed = mask[lo:hi].any()
                    reasons[
                        self._fit_reason(i, by_cpu, by_memory) if allowed else "no allowed node"
                    ] += 1
        if not reasons:
            return ""
        left = count - sum(reasons.values())
        parts = ", ".join(
            f"{n} {text}" for text, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
        )
        return f"{left}/{count} clusters: {parts}"

    def _verdicts(
        self, removed_by: npt.NDArray[np.int64], limit_by: npt.NDArray[np.int64],
        fit: npt.NDArray[np.int64], cap: npt.NDArray[np.int64], terms: dict[str, FloatArray],
        score: FloatArray, placed: Mapping[str, int],
        by_cpu: npt.NDArray[np.int64], by_memory: npt.NDArray[np.int64],
    ) -> list[ClusterVerdict]:  # fmt: skip
        snap = self.snapshot
        out = []
        for i, name in enumerate(snap.clusters):
            verdict = ClusterVerdict(name, snap.sites[i], fit=int(fit[i]), cap=int(max(cap[i], 0)))
            code = int(removed_by[i])
            if code >= 0:
                verdict.removed_by, verdict.reason = self._policy_label(code)
            elif code == -2:
                verdict.removed_by, verdict.reason = "fit", self._fit_reason(i, by_cpu, by_memory)
            elif code == -4:
                verdict.removed_by, verdict.reason = "fit", "no ready nodes"
            elif code == -3:
                position = int(limit_by[i])
                verdict.removed_by, verdict.reason = self._policy_label(position)
            else:
                verdict.terms = {k: float(v[i]) for k, v in terms.items()}
                verdict.score = float(score[i])
                verdict.replicas = placed.get(name, 0)
                if not verdict.replicas:
                    verdict.reason = "eligible; the replicas went to clusters that scored higher"
            out.append(verdict)
        return out
