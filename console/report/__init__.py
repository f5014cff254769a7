"""`tongchou report`: the monthly report for leadership, as a PDF (HTML printed by chromium)."""
