"""Personal-data redaction, applied to unit text and speaker fields before anything is written.

Speakers become pseudonyms: a role prefix (與會者/官員/主持人) and a letter code that depends on
the speaker label alone. Codes come from one counter across roles, in order of first
appearance with the round's files visited in sorted path order (`order()`), so the same
label keeps its code whether or not a manifest names roles (與會者C may become 官員C, never
與會者F). Speakers' real names are then removed from all unit text (full name and, for
3-character Chinese names, the given name alone).

Names of people who are not speaker labels are found by context (see `_ContextNames`):

- surname + personal title: 陳執行長 → 〇執行長, 林美華小姐 → 〇〇〇小姐;
- surname + kinship/nickname form: 盧姐 → 〇姐, 林大哥 → 〇大哥;
- self-introductions: 我姓黃 / 敝姓林 → 我姓〇; 我是小洋 / 我叫阿德 / 我是陳志明 → 我是〇〇, and a
  name introduced that way is removed wherever else it occurs in the round.

Public office titles (處長, 局長, 部長, 政委, 委員…) are not personal titles: 「王處長」 is
an official acting in a public role and stays, except that a known official speaker's own
short form (經濟部王處長 → 王處長) becomes that official's pseudonym, as before.

The placeholders are made of 〇 only. The segmenter drops 〇 as a numeral, so a redacted
name can never become a token, a theme keyword or a label.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pipeline.config import RedactConfig
from pipeline.ingest import recognisers
from pipeline.ingest.recognisers.lexicon import (
    COMPOUND_SURNAMES,
    NOT_GIVEN,
    NOT_NAMES,
    ORG_END,
    SURNAMES,
    WEAK_SURNAMES,
)
from pipeline.ingest.recognisers.person_names import PassingNames, is_common_word

# Patterns (email, phones, IDs, card and account numbers, social IDs, addresses):
# pipeline/ingest/recognisers.py.

# --- names by context ----------------------------------------------------------------------

# Characters before a weak surname that show a person is being named.
_INTRO_BEFORE = frozenset("請跟和與及同的是位對向找給讓由問有像叫被把在說到也就都還從以們謝剛")

# Two-character words that end in a surname character: "謝謝老師", "擔任理事長", "對方老闆"
# are not names. Only the pairs that plausibly stand right before a title are listed.
_WORD_BEFORE = frozenset(
    "謝謝 感謝 多謝 致謝 也許 或許 允許 些許 期許 森林 山林 農林 竹林 樹林 "
    "雨林 造林 四周 每周 上周 下周 本周 這周 蛋黃 金黃 國王 帝王 天王 大王 "
    "緊張 主張 擴張 誇張 行李 依賴 信賴 仰賴 茶葉 樹葉 村莊 農莊 山莊 張羅 "
    "網羅 精簡 時鐘 分鐘 點鐘 二胡 橋梁 子孫 兒孫 愛戴 穿戴 師傅 諸侯 園丁 "
    "羅馬 出馬 上馬 古董 西歐 東歐 北歐 健康 小康 巴黎 莊嚴 尊嚴 戒嚴 南韓 "
    "北韓 大陸 內陸 登陸 金錢 有錢 賺錢 價錢 照顧 回顧 兼顧 高溫 低溫 氣溫 "
    "長江 浙江 未曾 不曾 也曾 都曾 上游 下游 中游 地雷 歷史 任何 如何 為何 "
    "幾何 擔任 兼任 專任 現任 前任 新任 歷任 首任 接任 出任 繼任 留任 就任 "
    "上任 卸任 升任 轉任 聘任 派任 主任 責任 信任 委任 對方 雙方 官方 地方 "
    "北方 南方 東方 西方 一方 資方 勞方 甲方 乙方 買方 賣方 校方 警方 院方 "
    "廠方 兒童 工程 課程 過程 議程 流程 時程 全程 專程 行程 章程 基金 資金 "
    "獎金 現金 黃金 年紀 世紀 農田 稻田 考古 復古 空白 明白 千萬 百萬 一萬 "
    "隊伍 退伍 入伍 措施 實施 設施 文章 規章 憲章 羽毛 提高 最高 長官 法官 "
    "器官 華夏 中國 產業 企業".split()
)
_NOT_IN_INTRO = frozenset("的是在有了著着過嗎呢吧啊呀喔哦我你他她們這那〇")

_HAN = r"\u4e00-\u9fff"
# A name introduced by its owner ends at punctuation, the end, or a word that follows a name.
_NAME_END = (r"(?=[，。、！？；：,.!?;:\s（(）)「」]|$"
             r"|就好|就可以|啦|喔|哦|啊|呀|來自|代表|目前|現在|今天|這邊|我是|我們)")


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: spreadsheet-style, so pseudonyms never run out."""
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_CJK_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")


class _ContextNames:
    """Private names found by surname + title, kinship forms and self-introductions.

    jieba's `nr` (person name) tag is not used: its dictionary is Simplified, it tags many
    surname-initial words (高雄, 林業) as names when they stand alone and misses most
    surname + title forms in Traditional text, and the surname lists with the context cues
    below already reach the recall and precision reported for this module (see
    tests/test_redact.py); an extra model would add a dependency and no measured gain.
    """

    def __init__(self, cfg: RedactConfig):
        self.cfg = cfg
        personal = sorted({*cfg.personal_titles} - {*cfg.public_titles}, key=len, reverse=True)
        honorific = [t for t in personal if t in cfg.full_name_titles]
        kin = sorted(cfg.kinship_forms, key=len, reverse=True)
        self._all_titles = tuple({*cfg.personal_titles, *cfg.public_titles})
        self.title_rx = re.compile("|".join(map(re.escape, personal))) if personal else None
        self.honorific = frozenset(honorific)
        self.kin_rx = re.compile("|".join(map(re.escape, kin))) if kin else None
        compound = "|".join(COMPOUND_SURNAMES)
        surname = f"(?:{compound}|[{''.join(sorted(SURNAMES))}])"
        nick = f"[阿小][{_HAN}]"
        full = f"{surname}[{_HAN}]{{1,2}}"
        # 我姓黃 / 敝姓林 / 本人姓王 / 我是姓陳的
        self.surname_intro = re.compile(f"(?:我|敝|本人|在下)(?:是)?姓(?P<s>{surname})")
        # 我是小洋 / 我叫阿德 / 大家叫我阿德 / 我的名字是陳志明; a colleague introduced by the
        # speaker (我旁邊是我的夥伴郭哲昆, 這位是鄭佩欣); 我姓邱，邱重榮.
        self.name_intro = re.compile(
            f"(?:我(?:是|叫|叫做|名叫)|叫我|我的名字(?:是|叫做|叫)|本人是|本人叫"
            f"|這位是|旁邊是|夥伴|同仁|同事|姓(?P<s2>{surname})[，、 ]?(?=(?P=s2)))"
            f"(?P<n>{nick}|{full}){_NAME_END}"
        )
        # 我是金管會銀行局王麗惠 / 我是協會的總幹事魏惠伶: the name closes a self-introduction
        # after the body or title, so only after a character that ends one.
        self.name_after_body = re.compile(
            f"我是[^，。！？；]{{2,40}}?(?<=[局會署部處長員事的社司組院校所心館])"
            f"(?P<n>{full}){_NAME_END}"
        )

    # -- self-introductions --------------------------------------------------------------

    def introduced(self, text: str) -> list[str]:
        """Names that speakers give for themselves in `text` (nicknames and full names)."""
        out = []
        for rx in (self.name_intro, self.name_after_body):
            for m in rx.finditer(text):
                name = m.group("n")
                if self._plausible_intro(name):
                    out.append(name)
        return out

    def _plausible_intro(self, name: str) -> bool:
        if name in self.cfg.not_names or name[:2] in NOT_NAMES:
            return False
        # 我是能源署的林組長 / 我是戴經理: a surname + title, left to the title rules (public
        # titles stay, personal ones become 〇經理).
        if any(name.endswith(t) for t in self._all_titles):
            return False
        if name[0] in "阿小" and len(name) == 2:
            return name not in self.cfg.not_nicknames
        # Given names here may hold numerals (邱志一) and 以 (王佳以): the introduction is
        # context enough, only particles and pronouns rule a name out.
        return len(name) >= 2 and not any(c in _NOT_IN_INTRO for c in name[1:])

    # -- surname + title ----------------------------------------------------------------

    def _surname_before(self, text: str, end: int, weak_ok: bool = False) -> int | None:
        """Start of a surname that ends at `end`, or None when the context says it is a word."""
        for comp in COMPOUND_SURNAMES:
            if text.startswith(comp, end - len(comp)) and end - len(comp) >= 0:
                return end - len(comp)
        if end < 1 or text[end - 1] not in SURNAMES:
            return None
        s = end - 1
        prev = text[s - 1] if s >= 1 else ""
        if prev + text[s] in _WORD_BEFORE or text[s:end + 1] in NOT_NAMES:
            return None
        if text[s] in WEAK_SURNAMES and not weak_ok:
            if re.match(f"[{_HAN}]", prev) and prev not in _INTRO_BEFORE:
                return None
        return s

    def _full_name_before(self, text: str, end: int) -> int | None:
        """Start of a surname + 1-2 character given name ending at `end` (林美華小姐)."""
        for g in (2, 1):
            start = self._surname_before(text, end - g)
            if start is None:
                continue
            given = text[end - g:end]
            if any(c in NOT_GIVEN or not ("\u4e00" <= c <= "\u9fff") for c in given):
                continue
            if text[start:start + 2] in NOT_NAMES or text[start:end] in self.cfg.not_names:
                continue
            # Strong surname only: 高雄先生 is excluded above, but a weak surname before an
            # unknown two characters is more often a word (施工人員先生) than a name.
            if text[start] in WEAK_SURNAMES:
                continue
            return start
        return None

    def titles(self, text: str, counts: Counter) -> str:
        def start(m: re.Match[str]) -> int | None:
            # A full name before an honorific (林美華小姐), else the surname alone (陳執行長).
            if m.group(0) in self.honorific:
                full = self._full_name_before(text, m.start())
                if full is not None:
                    return full
            return self._surname_before(text, m.start())

        return self._mask_before(text, self.title_rx, start, counts, "name_title")

    def kinship(self, text: str, counts: Counter) -> str:
        return self._mask_before(text, self.kin_rx,
                                 lambda m: self._surname_before(text, m.start()),
                                 counts, "name_kinship")

    def _mask_before(self, text: str, rx: re.Pattern[str] | None,
                     start_of: Callable[[re.Match[str]], int | None], counts: Counter,
                     kind: str) -> str:
        """Replace the name that `start_of` finds before each match of `rx` (a title or a
        kinship form) with the surname placeholder, one 〇 per character."""
        if rx is None:
            return text
        out, last = [], 0
        for m in rx.finditer(text):
            t0 = m.start()
            if t0 < last:
                continue
            start = start_of(m)
            if start is None or start < last:
                continue
            out.append(text[last:start] + self.cfg.surname_placeholder * (t0 - start))
            last = t0
            counts[kind] += 1
        out.append(text[last:])
        return "".join(out)

    def intros(self, text: str, counts: Counter) -> str:
        def surname(m: re.Match[str]) -> str:
            counts["name_surname"] += 1
            return m.group(0)[: m.start("s") - m.start()] + self.cfg.surname_placeholder

        def name(m: re.Match[str]) -> str:
            if not self._plausible_intro(m.group("n")):
                return m.group(0)
            counts["name_introduced"] += 1
            return m.group(0)[: m.start("n") - m.start()] + self.cfg.name_placeholder

        # Names before surnames: 「我姓邱，邱重榮」 needs the surname to find the name.
        text = self.name_intro.sub(name, text)
        text = self.name_after_body.sub(name, text)
        return self.surname_intro.sub(surname, text)


@dataclass
class Redactor:
    """The round's label → pseudonym table and name rules.

    Call `order()` with every turn's label (files in path order) or `speaker()` for every
    turn, then `learn()` on every text, then `text()`.
    """

    cfg: RedactConfig
    pseudonyms: dict[str, str] = field(default_factory=dict)
    counts: Counter = field(default_factory=Counter)
    _codes: dict[str, str] = field(default_factory=dict)
    _aliases_by_role: dict[tuple[str, str], str] = field(default_factory=dict)
    _name_re: re.Pattern[str] | None = None
    _name_map: dict[str, tuple[str, str]] = field(default_factory=dict)
    _extra_names: list[str] = field(default_factory=list)
    _aliases: dict[str, str] = field(default_factory=dict)
    _learned: dict[str, None] = field(default_factory=dict)
    # Full names found in passing (person_names.py): removed wherever they recur, but not
    # their given names alone, which a wrong find would remove everywhere.
    _mentioned: dict[str, None] = field(default_factory=dict)
    _passing: PassingNames | None = None
    _context: _ContextNames | None = None

    def add_private_names(self, names: list[str]) -> None:
        """Names listed in a round manifest, removed from text like the config's extra_names."""
        new = [n for n in names if n not in self._extra_names]
        if new:
            self._extra_names.extend(new)
            self._name_re = None

    def order(self, labels: list[str | None]) -> None:
        """Give letter codes to labels in this order (first appearance counts).

        Called with the labels of all turns, files in sorted path order, before any
        `speaker()` call: the code then depends on the label alone, not on the roles or on
        the manifest's session order. Labels seen later only by `speaker()` get the next
        free codes.
        """
        for label in labels:
            if label is not None and label not in self.cfg.keep_labels:
                self._code(label)

    def _code(self, label: str) -> str:
        if label not in self._codes:
            self._codes[label] = _letters(len(self._codes))
        return self._codes[label]

    def speaker(self, label: str | None, role: str, title: str | None = None) -> str | None:
        """Pseudonym for a speaker label: role prefix + the label's code (+ （title）)."""
        if label is None:
            return None
        if not (self.cfg.enabled and self.cfg.names):
            return label
        if label in self.cfg.keep_labels:
            return label
        if role == "official" and self.cfg.keep_official_names:
            return label
        key = (label, role)
        if key not in self._aliases_by_role:
            prefix = {
                "official": self.cfg.official_prefix,
                "moderator": self.cfg.moderator_label,
            }.get(role, self.cfg.pseudonym_prefix)
            alias = prefix + self._code(label)
            # 與會者C（地球公民）: the affiliation of a 名字（單位） label stays, the name goes.
            title = title or split_label(label)[1]
            if title:
                alias += f"（{title}）"
                # "經濟部王處長" is also called "王處長" in the room.
                pos = label.find(title)
                if pos >= 1:
                    self._aliases.setdefault(label[pos - 1 : pos + len(title)], alias)
            self._aliases_by_role[key] = alias
            if label not in self.pseudonyms:
                self.pseudonyms[label] = alias
                self._name_re = None
        return self._aliases_by_role[key]

    def _rules(self) -> _ContextNames:
        if self._context is None:
            self._context = _ContextNames(self.cfg)
        return self._context

    def learn(self, text: str) -> None:
        """Collect names that people introduce themselves by, to remove them everywhere.

        Run over all texts of the round before `text()`, so that 阿德 is also removed where
        it was mentioned before its owner said 「我叫阿德」.
        """
        if not (self.cfg.enabled and self.cfg.names and self.cfg.context_names):
            return
        for name in self._rules().introduced(text):
            if name not in self._learned:
                self._learned[name] = None
                self._name_re = None
        if self.cfg.passing_names:
            if self._passing is None:
                self._passing = PassingNames(self.cfg)
            for s, e in self._passing.spans(text):
                if text[s:e] not in self._mentioned:
                    self._mentioned[text[s:e]] = None
                    self._name_re = None

    def _names(self) -> tuple[re.Pattern[str] | None, dict[str, tuple[str, str]]]:
        """Every name to remove -> (what replaces it, the kind counted)."""
        if self._name_re is None:
            mapping: dict[str, tuple[str, str]] = {k: (v, "name")
                                                   for k, v in self._aliases.items()}
            for name, alias in self.pseudonyms.items():
                if is_common_word(name):
                    continue  # 時間, 能源 as labels: the label is replaced, the word stays
                for variant in _name_variants(name):
                    mapping.setdefault(variant, (alias, "name"))
            for name in [*self.cfg.extra_names, *self._extra_names]:
                for variant in _name_variants(name):
                    mapping.setdefault(variant, (self.cfg.pseudonym_prefix, "name"))
            for name in self._learned:
                for variant in _name_variants(name):
                    mapping.setdefault(variant, (self.cfg.name_placeholder, "name_introduced"))
            for name in self._mentioned:
                mapping.setdefault(name, (self.cfg.surname_placeholder * len(name),
                                          "name_passing"))
            self._name_map = mapping
            self._name_re = (
                re.compile("|".join(re.escape(k) for k in sorted(mapping, key=len, reverse=True)))
                if mapping else None
            )
        return self._name_re, self._name_map

    def text(self, text: str) -> str:
        if not self.cfg.enabled:
            return text
        text = recognisers.apply(text, self._patterns(), self.counts)
        if self.cfg.names:
            rx, mapping = self._names()
            if rx is not None:
                def repl(m: re.Match[str]) -> str:
                    alias, kind = mapping[m.group(0)]
                    self.counts[kind] += 1
                    return alias
                text = rx.sub(repl, text)
            if self.cfg.context_names:
                rules = self._rules()
                # Self-introductions first: 「我姓黃」 must not be read as 黃 + a title.
                text = rules.intros(text, self.counts)
                text = rules.titles(text, self.counts)
                text = rules.kinship(text, self.counts)
        return text

    def metadata(self, row: dict[str, Any], columns: Iterable[str]) -> None:
        """Redact or drop a row's metadata `columns` in place (redact.metadata_columns,
        redact.drop_columns). Kept values become redacted text: a number in a free-form
        column may be a phone, and one type per column keeps pyarrow from failing on (and
        echoing) a row that mixes numbers and text."""
        drop = [d.lower() for d in self.cfg.drop_columns]
        for col in columns:
            if col not in row:
                continue
            name = col.split("_", 1)[-1].lower()
            if self.cfg.metadata_columns == "drop" or any(d in name for d in drop):
                del row[col]
                self.counts["metadata_dropped"] += 1
            elif row[col] is not None:
                # A name mentioned only here is learned here (the texts were learned first).
                self.learn(str(row[col]))
                row[col] = self.text(str(row[col]))

    def _patterns(self) -> list[recognisers.Recogniser]:
        # In recognisers.RECOGNISERS order; each switch of the config turns on a group.
        return [r for switch, group in recognisers.RECOGNISERS.items()
                if getattr(self.cfg, switch) for r in group]


_LABEL_AFFILIATION = re.compile(r"^(?P<a>[^（(]+)[（(](?P<b>[^（）()]+)[）)]$")


_DEFAULTS = RedactConfig()
# A surname + title or kinship form (林小姐, 王處長, 盧姐) is a form of address, not a name.
_ADDRESS_FORMS = tuple({*_DEFAULTS.personal_titles, *_DEFAULTS.public_titles,
                        *_DEFAULTS.kinship_forms, "代表"})


def looks_like_name(text: str) -> bool:
    """A Chinese personal name: 2-4 characters starting with a (compound) surname."""
    if not _CJK_NAME.match(text) or text[-1] in ORG_END or text.endswith(_ADDRESS_FORMS):
        return False
    if text[:2] in COMPOUND_SURNAMES:
        return len(text) >= 3
    return text[0] in SURNAMES and text[:2] not in NOT_NAMES


def split_label(label: str) -> tuple[str | None, str | None]:
    """A speaker label's person name and affiliation: 蔡宜芳（地球公民）, 蔡宜芳/地球公民 and
    地球公民 蔡宜芳 -> (蔡宜芳, 地球公民); 陳志明 -> (陳志明, None); 內政部代表 -> (None, None).
    The name is redacted, the affiliation kept: which organisation spoke matters."""
    label = label.strip()
    m = _LABEL_AFFILIATION.match(label)
    if m:
        parts = [m.group("a").strip(), m.group("b").strip()]
    else:
        parts = [p for p in re.split(r"\s*[/／]\s*|\s+", label) if p]
    if len(parts) == 2:
        for i in (0, 1):
            if looks_like_name(parts[i]) and not looks_like_name(parts[1 - i]):
                return parts[i], parts[1 - i]
        if looks_like_name(parts[0]):
            return parts[0], parts[1]
        return None, None
    return (label, None) if looks_like_name(label) else (None, None)


def _name_variants(name: str) -> list[str]:
    """A label or name and the forms it is also called by: the person name inside a label
    (蔡宜芳（地球公民） -> 蔡宜芳) and the given name alone, two characters being specific
    enough to remove (陳聖凱 -> 聖凱, 歐陽志遠 -> 志遠); single characters are not."""
    name = name.strip()
    if len(name) < 2:
        return []
    out = [name]
    person = split_label(name)[0]
    if (person is None and _CJK_NAME.match(name) and len(name) == 3
            and not name.endswith(_ADDRESS_FORMS)):
        person = name  # as before: any 3-character label is taken as a name
    if person:
        out.append(person)
        surname = 2 if person[:2] in COMPOUND_SURNAMES or len(person) == 4 else 1
        if len(person) - surname == 2:
            out.append(person[surname:])
    return list(dict.fromkeys(out))


def placeholder_pattern(cfg: RedactConfig) -> re.Pattern[str]:
    """What redaction writes into text in place of people: pseudonyms (與會者BZ,
    官員C（內政部）), tags ([電話]) and name placeholders (〇執行長's 〇, 〇〇). Removed before
    words are counted, so that no pseudonym code or tag becomes a keyword, a label or mapping
    evidence. (The segmenter already drops 〇 as a numeral; listing it here keeps that true
    if the placeholders are configured otherwise.)"""
    prefixes = "|".join(re.escape(p) for p in sorted(
        {cfg.pseudonym_prefix, cfg.official_prefix, cfg.moderator_label}, key=len, reverse=True))
    names = "|".join(f"(?:{re.escape(p)})+" for p in sorted(
        {cfg.name_placeholder, cfg.surname_placeholder} - {""}, key=len, reverse=True))
    return re.compile(rf"(?:{prefixes})[A-Z]{{1,3}}(?:（[^（）]{{0,40}}）)?|\[[^\[\]\s]{{1,8}}\]"
                      + (f"|{names}" if names else ""))
