"""The national roll-up: a province hub's division summaries upwards, a national hub's store."""
