"""The fleet room: agents' reports in, checked, paced, held in memory and written to the store."""
