"""`record`: an immutable value class that is cheap to build, for the types built per profile.

A frozen dataclass sets each field through `object.__setattr__` in its
`__init__`, about four times the cost of a plain one: at 10,000 profiles
`awsv list` builds some 40,000 chain values, and that alone was a third of
the command. A `record` is a frozen dataclass to the type checker (mypy,
strict in CI, rejects any assignment to a field, as it does for
`frozen=True`) and at run time a slotted dataclass with `unsafe_hash`, so it
keeps the value semantics the code relies on (equality, hashing, no new
attributes) and builds at a plain class's speed. Use it only for values that
are built in bulk; everything else stays `@dataclass(frozen=True)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar, dataclass_transform

_T = TypeVar("_T")


if TYPE_CHECKING:

    @dataclass_transform(frozen_default=True, field_specifiers=(field,))
    def record(cls: type[_T]) -> type[_T]:
        """A frozen dataclass, as the type checker sees it."""
        ...

else:

    def record(cls):
        """A slotted, hashable dataclass, as it runs."""
        return dataclass(slots=True, unsafe_hash=True)(cls)
