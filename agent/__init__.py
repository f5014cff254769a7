"""The Tongchou node agent: collects a node's capacity and usage and reports them to the hub."""
