"""What every settings section shares (`copytrader.settings` and the sections kept in modules of their own:
`exit_settings`, `scoring_settings`): a frozen model refusing unknown fields, and `Dec`, a Decimal read from
a string or number without passing through a float."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from copytrader.money import to_decimal

Dec = Annotated[Decimal, BeforeValidator(to_decimal)]


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
