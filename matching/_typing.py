"""Named domain types, so signatures say which id they take."""

from __future__ import annotations

from typing import Literal, NewType

ParticipantId = NewType("ParticipantId", str)
OpeningId = NewType("OpeningId", str)
OfficeId = NewType("OfficeId", str)
RunId = NewType("RunId", str)
Lang = Literal["nb", "en"]
KindFilter = Literal["job", "trial", "any"]
