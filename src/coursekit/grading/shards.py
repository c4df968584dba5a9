"""Split an assignment's students over N grading hosts: ``coursekit grade A --shard K/N``.

A student belongs to shard ``1 + h mod N``, where ``h`` is the first 8 bytes of the SHA-256 of
the student id (UTF-8) read as an unsigned integer. The split depends on the id alone, not on
which other students handed in or in which order the folders are listed, so a late submission
never moves anyone else to another host, and every host computes the same split without talking
to the others (Python's own ``hash`` of a string differs between processes, so it cannot be used).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (both counted from 1, as written on the command line)."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if self.count < 1:
            raise ValueError(f"the number of shards must be at least 1, got {self.count}")
        if not 1 <= self.index <= self.count:
            raise ValueError(
                f"the shard number must be between 1 and {self.count}, got {self.index}"
            )

    @classmethod
    def parse(cls, text: str) -> "Shard":
        """Read ``"K/N"``.

        Raises:
            ValueError: with a message saying what is wrong (``"2"``, ``"0/3"``, ``"4/3"``,
            ``"a/b"``).
        """
        match = _SPEC.fullmatch(text)
        if not match:
            raise ValueError(
                f"expected K/N with whole numbers 1 <= K <= N (e.g. 1/3), got {text!r}"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def contains(self, student: str) -> bool:
        """True if ``student`` is graded by this shard."""
        return shard_number(student, self.count) == self.index

    def select(self, students: list[str]) -> list[str]:
        """The students of this shard, in the order given."""
        return [s for s in students if self.contains(s)]


def shard_number(student: str, count: int) -> int:
    """The shard (1..count) that grades ``student``."""
    digest = hashlib.sha256(student.encode("utf-8")).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count
