"""The console's panes: one view of the fleet per file, each a tab of the app."""
