"""The control room: workloads scheduled on the live fleet, and reconciled with the clusters."""
