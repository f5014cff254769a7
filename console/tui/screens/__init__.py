"""The console's views, one per file."""
