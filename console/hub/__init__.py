"""The hub: agent ingest over gRPC, the live inventory, its store, and its metrics."""
