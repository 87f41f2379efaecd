"""Paging of SQL statements in the database, for flask-smorest's `@blp.paginate`."""

from functools import cached_property

from flask_smorest import Page
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from tracker.extensions import db


MAX_OFFSET = 2**31 - 1  # beyond any table here; larger offsets would overflow the database's integers


class SQLPage(Page):
    """One COUNT and one bounded SELECT per page, whatever the table's size. `count`, when given,
    is tried first for the total (maintained tallies, tracker.services.tallies); when it returns
    None the statement is counted."""

    def __init__(self, collection, page_params, count=None):
        self._count = count
        super().__init__(collection, page_params)

    def _beyond_the_end(self) -> bool:
        return self.page_params.first_item > min(self.item_count, MAX_OFFSET)

    @property
    def items(self):
        if self._beyond_the_end():
            return []
        stmt: Select = self.collection
        return list(
            db.session.scalars(stmt.limit(self.page_params.page_size).offset(self.page_params.first_item)).unique()
        )

    @cached_property
    def item_count(self):
        if self._count is not None:
            found = self._count()
            if found is not None:
                return found
        stmt: Select = self.collection
        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))


class RowPage(SQLPage):
    """The same for statements selecting columns: rows instead of ORM objects."""

    @property
    def items(self):
        if self._beyond_the_end():
            return []
        stmt: Select = self.collection
        return list(db.session.execute(stmt.limit(self.page_params.page_size).offset(self.page_params.first_item)))
