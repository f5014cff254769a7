"""A site's relay: its nodes' report streams in, batches over one stream out to the hub."""
