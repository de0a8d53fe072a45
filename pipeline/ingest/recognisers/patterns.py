"""Pattern recognisers for personal data in Taiwanese text: each a regex, an optional check
on the match (Luhn for card numbers, not a year range for local numbers) and the group to
replace (a LINE ID, not the words that introduce it).

Why our own module rather than Presidio's pattern recognisers: presidio-analyzer installs from
the registry, but it requires spaCy and, to run its AnalyzerEngine, a spaCy language model,
which cannot be downloaded at run time on an offline laptop; its context boosting works on
spaCy lemmas, which Chinese text does not have without a Chinese model; and its built-in
recognisers are for US/EU formats. What it would give us, a regex plus a validator plus
context words per entity, is the `Recogniser` below in a few lines, tested on Taiwanese forms.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+\s?@\s?[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# Taiwanese numbers: mobile 09xx-xxx-xxx, +886 9xx..., landlines (0x)xxxx-xxxx with area code.
PHONE = re.compile(
    r"(?<![\dA-Za-z])(?:"
    r"(?:\+?886[\s\-]?|0)9\d{2}[\s\-]?\d{3}[\s\-]?\d{3}"
    r"|(?:\+?886[\s\-]?|0)\(?[2-8]\d?\)?[\s\-]?\d{3,4}[\s\-]?\d{4}(?:\s?(?:#|分機|ext\.?)\s?\d{1,5})?"
    r"|\(0[2-8]\d?\)\s?\d{3,4}[\s\-]?\d{4}"
    r")(?!\d)"
)
# A local number without area code (2345-6789, 234-5678): written with a dash; a year range
# (2030-2050) or a quantity (1234-5678元) is not one, see _local_number.
LOCAL_PHONE = re.compile(r"(?<![\d\-./:A-Za-z])(?P<a>[2-9]\d{2,3})-(?P<b>\d{4})(?![\d\-])")
# National ID: letter + 1/2 + 8 digits; resident certificates: letter + 8/9 + 8 digits
# (new format) or letter + A-D + 8 digits (old format).
NATIONAL_ID = re.compile(r"(?<![A-Za-z0-9])[A-Za-z](?:[1289]|[A-Da-d])\d{8}(?!\d)")
# Card numbers: 13-19 digits, in groups separated by a space or a dash; Luhn-checked.
CARD = re.compile(r"(?<![\d\-])\d(?:[ \-]?\d){12,18}(?![\d\-])")
# Bank accounts have no checksum: only a number introduced as an account (帳號/戶頭/匯款到…),
# optionally after a bank code (700, (822)), is one.
BANK_ACCOUNT = re.compile(
    r"(?:帳號|帳戶|戶頭|匯款到|匯到|轉帳到|轉到|匯入)[^\d\n，。]{0,12}?"
    r"(?P<n>(?:[(（]?\d{3}[)）]?[ \-]?)?\d(?:[ \-]?\d){7,15})(?!\d)"
)
# LINE / social IDs where introduced as such: 「LINE ID 是 meihua_lin」「加我賴：abc123」
# 「IG 帳號 @tw.green」. The platform must be followed by ID/帳號 or by 是/：, so that
# 「LINE Pay」 or 「IG 上面」 are not IDs.
_PLATFORM = (r"(?:LINE|Line|line|賴|IG|Instagram|instagram|FB|臉書|Facebook|facebook|推特"
             r"|Twitter|微信|WeChat|Telegram|Threads)")
SOCIAL_ID = re.compile(
    rf"{_PLATFORM}\s*(?:(?:ID|Id|id|帳號|帳戶|名稱)\s*(?:是|為|：|:)?|(?:是|：|:))\s*"
    r"(?P<n>@?[A-Za-z0-9][A-Za-z0-9._\-]{2,29})(?![A-Za-z0-9._\-])"
)
# Addresses: (縣市)(區鄉鎮市) + road/street (段)(巷)(弄) + 號 (樓). The county and district
# stay: where a meeting or an organisation is matters to analysts and identifies nobody.
_NUM = r"(?:\d+|[一二三四五六七八九十百]+)"
_ROAD_CHAR = r"(?:(?![在的是到於住從往去來我你他她們家就也和跟])[\u4e00-\u9fff])"
ADDRESS = re.compile(
    r"(?P<keep>(?:[\u4e00-\u9fff]{1,3}[縣市])?(?:[\u4e00-\u9fff]{1,3}[區鄉鎮市])?)"
    rf"(?P<n>{_ROAD_CHAR}{{1,4}}(?:路|街|大道)(?:{_NUM}段)?(?:{_NUM}巷)?(?:{_NUM}弄)?"
    rf"\d+(?:[之\-]\d+)?號(?:{_NUM}樓)?(?:之{_NUM})?)"
)

TAGS = {"email": "[電子郵件]", "phone": "[電話]", "national_id": "[身分證號]",
        "card": "[卡號]", "bank_account": "[帳號]", "social_id": "[社群帳號]",
        "address": "[地址]"}


def luhn_ok(digits: str) -> bool:
    """The Luhn checksum of payment card numbers (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(m: re.Match[str], text: str) -> bool:
    digits = re.sub(r"\D", "", m.group(0))
    return 13 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1


def _local_number(m: re.Match[str], text: str) -> bool:
    a, b = m.group("a"), m.group("b")
    if len(a) == 4 and all(1900 <= int(x) <= 2100 for x in (a, b)):
        return False  # 2030-2050: a year range
    after = text[m.end():m.end() + 1]
    return after not in set("年元萬億人件次戶名頁條號期公噸度%％")


@dataclass(frozen=True)
class Recogniser:
    """A kind of personal data: what to find, how to check it and which part to replace."""

    kind: str
    pattern: re.Pattern[str]
    check: Callable[[re.Match[str], str], bool] | None = None
    group: str | int = 0


# Order matters: card and account numbers before phones (a card's digit groups look like
# local numbers), addresses before local numbers (a house number is not a phone).
RECOGNISERS = {
    "emails": (Recogniser("email", EMAIL),),
    "national_ids": (Recogniser("national_id", NATIONAL_ID),),
    "bank_numbers": (Recogniser("card", CARD, _card),
                     Recogniser("bank_account", BANK_ACCOUNT, group="n")),
    "social_ids": (Recogniser("social_id", SOCIAL_ID, group="n"),),
    "addresses": (Recogniser("address", ADDRESS, group="n"),),
    "phones": (Recogniser("phone", PHONE), Recogniser("phone", LOCAL_PHONE, _local_number)),
}


def apply(text: str, recognisers: Iterable[Recogniser], counts: Counter) -> str:
    """Replace what each recogniser finds with its tag, counting by kind."""
    for r in recognisers:
        text = _apply_one(text, r, counts)
    return text


def _apply_one(text: str, r: Recogniser, counts: Counter) -> str:
    def repl(m: re.Match[str]) -> str:
        if r.check is not None and not r.check(m, text):
            return m.group(0)
        counts[r.kind] += 1
        s, e = m.span(r.group)
        return m.group(0)[: s - m.start()] + TAGS[r.kind] + m.group(0)[e - m.start():]

    return r.pattern.sub(repl, text)
