"""The one interface every attribute family implements.

A family is a group of attributes folded from records of some types into one stored row
per profile. New records of a profile fold into its stored state; records that change or
leave a profile make it rebuilt from all its records. Both paths run `fold`, so each
attribute has one definition, and a test per family proves them equal.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.orm import Session

from carebase.models.base import Base

State = TypeVar("State")


class Family(ABC, Generic[State]):
    """A group of attributes folded from records of `record_types` into `model`'s table."""

    name: ClassVar[str]
    # The record types this family is folded from. The record-type registry will declare
    # the families each type feeds; then this tuple is derived from it.
    record_types: ClassVar[tuple[str, ...]]
    model: ClassVar[type[Base]]
    # False: a changed record may replace an earlier version the state already holds, and
    # the caller cannot always tell, so every touched profile is rebuilt instead of folded.
    incremental: ClassVar[bool] = True

    @abstractmethod
    def empty_state(self) -> State:
        """The state of a profile with no records of this family."""

    @abstractmethod
    def state_from_row(self, row: Mapping[str, Any]) -> State:
        """The state a stored row holds."""

    @abstractmethod
    def fold(self, state: State, record: Mapping[str, Any]) -> None:
        """Account for one more record of the profile in `state`."""

    @abstractmethod
    def row(self, state: State, now: datetime) -> dict[str, Any]:
        """The stored row of a state (without profile_id)."""

    @abstractmethod
    def records_of(self, session: Session, profile_ids: set[str]) -> Iterable[Mapping[str, Any]]:
        """Every record of these profiles this family folds, each with its `profile_id`, in
        the order they must be folded."""

    def rebuild(self, session: Session, profile_ids: set[str]) -> dict[str, State]:
        """The states of these profiles, folded from all their records."""
        states = {profile_id: self.empty_state() for profile_id in profile_ids}
        for record in self.records_of(session, profile_ids):
            self.fold(states[record["profile_id"]], record)
        return states
