"""The unified planner: reuse-or-build for every demand, and the servers to buy, as a MILP."""
