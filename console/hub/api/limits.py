"""What the hub's API takes of documents: how large, and what each call's text is called in
messages (the scope hooks and the handlers read a call's documents once, by these)."""

from __future__ import annotations

MAX_WORKLOAD_BYTES = 256 * 1024
"""SubmitWorkload: one Workload document."""

MAX_POLICY_BYTES = 256 * 1024
"""CheckPolicies: PlacementPolicy documents."""

MAX_PLAN_BYTES = 4 * 1024 * 1024
"""RunPlan: the planning documents."""

SUBMITTED_WORKLOAD = "submitted document"
SUBMITTED_POLICIES = "submitted policies"
SUBMITTED_PLAN = "submitted documents"
