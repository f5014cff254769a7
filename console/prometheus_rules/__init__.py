"""The chart's Prometheus rules as package data: `rules.yaml` links to
charts/tongchou/files/alerts.yaml, the file Prometheus, promtool and the chart read."""
