"""The Tongchou hub, its inventory store, the document loader, the simulator and the console."""
