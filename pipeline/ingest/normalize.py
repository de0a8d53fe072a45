"""Text normalisation applied to every unit before redaction and segmentation."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from pipeline.config import NormalizeConfig

# Full-width letters, digits and the symbols that occur inside numbers, addresses and
# e-mails. Chinese sentence punctuation (，。！？：；（）) is kept full-width on purpose:
# it is the correct form in Traditional Chinese text and quotes must read naturally.
_FW_KEEP = set("！（），：；？")
_FW_TABLE = {
    cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F) if chr(cp) not in _FW_KEEP
}
_FW_TABLE[0x3000] = 0x20  # ideographic space

_WS = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f]+")
_ZERO_WIDTH = re.compile(r"[\u200c\u200d\u2060\ufeff]")


@cache
def _stage_direction_re(words: tuple[str, ...]) -> re.Pattern[str] | None:
    if not words:
        return None
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    # Directions are short bracketed asides: （笑）, (掌聲), （眾人鼓掌）, 【笑】.
    inner = r"[^（）()【】\[\]]{0,4}"
    return re.compile(rf"[（(【\[]\s*{inner}(?:{alt}){inner}\s*[）)】\]]", re.IGNORECASE)


@cache
def _opencc(conversion: str):
    from opencc import OpenCC

    return OpenCC(conversion)


def normalize_text(text: str, cfg: NormalizeConfig) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _ZERO_WIDTH.sub("", text)
    if cfg.fullwidth_to_halfwidth:
        text = text.translate(_FW_TABLE)
    if cfg.strip_stage_directions:
        rx = _stage_direction_re(tuple(cfg.stage_directions))
        if rx is not None:
            text = rx.sub("", text)
    if cfg.opencc != "none":
        text = _opencc(cfg.opencc).convert(text)
    if cfg.collapse_whitespace:
        text = _WS.sub(" ", text).strip()
    return text


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")


def cjk_count(text: str) -> int:
    return len(_CJK.findall(text))
