"""What is wrong with the settings, in words: :class:`InvalidSettings` (one line per problem; it stops the console),
the :class:`Report` a loading collects (problems, and warnings that do not stop it), and where a value was set.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..errors import ConfigError
from ..i18n import N_, Text


class _Lines:
    """Several translatable lines as one message value, translated when shown."""

    def __init__(self, items: Iterable[Text]):
        self.items = list(items)

    def __str__(self) -> str:
        return "\n".join("• " + str(t) for t in self.items)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)


class InvalidSettings(ConfigError):
    """The configuration cannot be used. ``problems``: one translatable line per bad setting or unreadable file."""

    def __init__(self, problems: Sequence[Text], *, detail: str = ""):
        self.problems = list(problems)
        super().__init__(
            N_("The console's settings cannot be used:\n{problems}", problems=_Lines(self.problems)),
            action=N_("Correct the settings (in the environment or the secrets file) and restart the console."),
            detail=detail,
        )


#: where a value was set, besides a file's path
ENVIRONMENT = "environment"
ARGUMENTS = "arguments"


def where(source: str) -> Text | str:
    """Where a value was set, in words: "the environment", "the program's arguments", or the file's path."""
    if source == ENVIRONMENT:
        return N_("the environment")
    if source == ARGUMENTS:
        return N_("the program's arguments")
    return source


@dataclass
class Report:
    """What a loading found: ``problems`` stop the console (with ``details`` for support), ``warnings`` do not."""

    problems: list[Text] = field(default_factory=list)
    details: list[str] = field(default_factory=list)
    warnings: list[Any] = field(default_factory=list)

    def stop_if_any(self) -> None:
        """Raise :class:`InvalidSettings` naming every problem found so far, if there is one."""
        if self.problems:
            raise InvalidSettings(self.problems, detail="\n".join(self.details))
