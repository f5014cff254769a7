"""Simulated agents: every node of a fleet file as its own real gRPC stream, in one process."""
