"""The operator console (Textual): the fleet, its workloads and events, live from a hub."""
