"""Session dates as analysts write them: ISO (2023-09-15, 2023/9/15, 20230915, 2023年9月15日)
or 民國 years (112/09/15, 112.9.15, 民國112年9月15日), always stored as ISO `YYYY-MM-DD`.

Day-first forms (15/09/2023) and words (明天) are refused rather than guessed: 03/04/2023 is
ambiguous, and a wrong date silently misorders sessions in every report.
"""

from __future__ import annotations

import datetime as dt
import re

ROC_OFFSET = 1911  # 民國 1 = 1912
_YMD = re.compile(r"^(?:民國\s*)?(\d{2,4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
# Dates in file names: the 8 digits of an ISO date, with or without separators.
_IN_NAME = re.compile(r"(\d{4})[-_.]?(\d{2})[-_.]?(\d{2})")

HINT = "write it as 2023-09-15 (ISO) or 112/09/15 (民國)"


class DateError(ValueError):
    """A date that is not in a recognised form, or not a day of the calendar."""


def parse_date(value: object) -> str:
    """ISO `YYYY-MM-DD` for a date as written in a manifest; DateError says why not."""
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    m = _YMD.match(text) or _COMPACT.match(text)
    if not m:
        raise DateError(f"{_shown(text)} is not a date in a recognised form")
    year, month, day = (int(g) for g in m.groups())
    if len(m.group(1)) <= 3:
        year += ROC_OFFSET  # 民國 years have 2-3 digits
    elif len(m.group(1)) != 4:
        raise DateError(f"{_shown(text)} has no clear year")
    try:
        return dt.date(year, month, day).strftime("%Y-%m-%d")
    except ValueError as e:
        raise DateError(f"{_shown(text)} is not a day of the calendar ({e})") from e


# A value in a date field is echoed only when it is made of date characters: the field may
# hold anything (a name, a phone), and errors are printed and logged (issue 16).
_DATE_LIKE = re.compile(r"[0-9０-９./\-年月日民國 ]{1,20}")


def _shown(text: str) -> str:
    return f"'{text}'" if _DATE_LIKE.fullmatch(text) else "the value"


def date_from_name(name: str) -> str | None:
    """The date in a file name (20230915, 2023-09-15), or None when there is no valid one
    (digits in a file name are not always a date, so an impossible one is just not a date)."""
    m = _IN_NAME.search(name)
    if not m:
        return None
    try:
        return parse_date("-".join(m.groups()))
    except DateError:
        return None
