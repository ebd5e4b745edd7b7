"""Lifecycles as enums with an explicit table of allowed transitions.

A :class:`Lifecycle` is built once per state enum from ``{state: (states it may move to)}``;
``can_transition`` answers, ``transition`` returns the new state or raises
:class:`IllegalTransition` (a 409 ``CONFLICT`` naming the lifecycle and both states), and
``sources(target)`` lists the states a move to ``target`` may start from: the DynamoDB adapters
build their condition expressions from it (``state_in``), so a state string is written once, in
its enum. No pydantic, no boto3: the access path imports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Generic, TypeVar

from marketplace.errors import ConflictError

S = TypeVar("S", bound=StrEnum)


class IllegalTransition(ConflictError):
    """A move the lifecycle's table does not allow (409 CONFLICT)."""

    def __init__(self, lifecycle: str, current: StrEnum | str | None, target: StrEnum | str,
                 details: dict | None = None) -> None:
        current_value = None if current is None else str(current)
        super().__init__(f"{lifecycle} cannot go from {current_value} to {target}",
                         {"lifecycle": lifecycle, "from": current_value, "to": str(target), **(details or {})})
        self.lifecycle = lifecycle
        self.current = current
        self.target = target


class Lifecycle(Generic[S]):
    def __init__(self, name: str, states: type[S], transitions: Mapping[S, Iterable[S]],
                 initial: Iterable[S]) -> None:
        self.name = name
        self.states = states
        self.initial: frozenset[S] = frozenset(initial)
        self.table: dict[S, frozenset[S]] = {s: frozenset(transitions.get(s, ())) for s in states}
        unknown = [t for targets in self.table.values() for t in targets if t not in states.__members__.values()]
        if unknown or not self.initial <= set(states):
            raise ValueError(f"{name}: transitions to states outside {states.__name__}")

    def can_transition(self, current: S | str | None, target: S | str) -> bool:
        """``current`` → ``target`` is in the table (``current`` None: ``target`` is an initial state)."""
        target = self.states(target)
        if current is None:
            return target in self.initial
        return target in self.table[self.states(current)]

    def transition(self, current: S | str | None, target: S | str, **details) -> S:
        """``target`` as a state if the move is allowed, else :class:`IllegalTransition`."""
        try:
            allowed = self.can_transition(current, target)
        except ValueError:  # not a state of this lifecycle at all
            allowed = False
        if not allowed:
            raise IllegalTransition(self.name, current, target, details)
        return self.states(target)

    def sources(self, target: S | str) -> tuple[S, ...]:
        """The states a move to ``target`` may start from, in declaration order."""
        target = self.states(target)
        return tuple(s for s in self.states if target in self.table[s])

    def terminal(self) -> tuple[S, ...]:
        return tuple(s for s in self.states if not self.table[s])


def state_in(states: Iterable[StrEnum], attribute: str = "#st", prefix: str = ":st") -> tuple[str, dict[str, str]]:
    """A DynamoDB condition ``<attribute> IN (...)`` (``=`` for one state) and its values."""
    values = {f"{prefix}{i}": str(s) for i, s in enumerate(states)}
    if not values:
        raise ValueError("no state to test for")
    if len(values) == 1:
        return f"{attribute} = {next(iter(values))}", values
    return f"{attribute} IN ({', '.join(values)})", values
