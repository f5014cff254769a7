"""A filter box over a table. Enter in it is the app's (a priority key): the app handles it the
moment it reads it, so the key typed right after Enter (a view key) already goes to the table;
a handler of the box's own Enter would run only after keys queued behind it."""

from __future__ import annotations

from textual.widgets import Input


class FilterBox(Input):
    def __init__(self, *, table: str, placeholder: str, id: str) -> None:
        super().__init__(placeholder=placeholder, id=id)
        self.table = table  # a selector

    def leave(self) -> None:
        """Keeps the filter (an empty one closes the box) and focuses the table at once."""
        if not self.value.strip():
            self.display = False
        self.screen.set_focus(self.screen.query_one(self.table))

    async def action_submit(self) -> None:
        self.leave()
        await super().action_submit()
