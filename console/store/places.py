"""Nodes' places from their join tokens: a token may name the division, site and cluster of
the node it is for; when the node joins with it, that place becomes the node's, and the hub
binds the node's reports to it."""

from __future__ import annotations

from dataclasses import dataclass

from console.store.sql import Session

PLACES_SCHEMA = """
CREATE TABLE IF NOT EXISTS join_token_places (
    id TEXT PRIMARY KEY,
    division TEXT NOT NULL,
    site TEXT NOT NULL,
    cluster TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS node_places (
    node TEXT PRIMARY KEY,
    division TEXT NOT NULL,
    site TEXT NOT NULL,
    cluster TEXT NOT NULL,
    token TEXT NOT NULL,
    enrolled_at REAL NOT NULL
) WITHOUT ROWID;
"""
"""The SQLite tables; the PostgreSQL store's are migration 5 (`console.store.migrations`)."""


@dataclass(frozen=True, slots=True)
class NodePlace:
    """Where a join token says its node is; recorded for the node when it joins with it."""

    division: str
    site: str
    cluster: str


def places_of(s: Session, node: str | None = None) -> dict[str, NodePlace]:
    """Every node's place from its token, or only `node`'s."""
    query = "SELECT node, division, site, cluster FROM node_places"
    rows = s.all(query + " WHERE node = ?", (node,)) if node is not None else s.all(query)
    return {str(r[0]): NodePlace(str(r[1]), str(r[2]), str(r[3])) for r in rows}


def enrol_place(s: Session, token_id: str, node: str, now: float) -> None:
    """The node's place becomes its token's (none when the token named none); in the
    transaction that uses the token up."""
    s.execute("DELETE FROM node_places WHERE node = ?", (node,))
    s.execute(
        "INSERT INTO node_places SELECT CAST(? AS TEXT), division, site, cluster, id,"
        " CAST(? AS DOUBLE PRECISION) FROM join_token_places WHERE id = ?",
        (node, now, token_id),
    )
