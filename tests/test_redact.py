import pytest

from pipeline.config import RedactConfig, load_config
from pipeline.ingest.redact import Redactor, placeholder_pattern


def _r() -> Redactor:
    return Redactor(RedactConfig())


def test_patterns_are_replaced_and_counted():
    r = _r()
    out = r.text("請打0912-345-678或(02)2345-6789，寄 mei.lin@example.org，身分證A123456789，居留證AC12345678。")
    for secret in ["0912-345-678", "2345-6789", "mei.lin@example.org", "A123456789", "AC12345678"]:
        assert secret not in out
    assert r.counts["phone"] == 2 and r.counts["email"] == 1 and r.counts["national_id"] == 2


def test_years_and_amounts_are_not_phones():
    r = _r()
    text = "2050年淨零，預算300億元，112年有25場次。"
    assert r.text(text) == text


def test_pseudonym_codes_are_one_counter_across_roles():
    r = _r()
    assert r.speaker("林美華", "participant") == "與會者A"
    assert r.speaker("陳志明", "participant") == "與會者B"
    assert r.speaker("林美華", "participant") == "與會者A"
    assert r.speaker("王大同", "official", "處長") == "官員C（處長）"
    assert r.speaker("主持人", "moderator") == "主持人"
    out = r.text("剛剛美華和陳志明都提到，王大同處長也同意。")
    assert "美華" not in out and "陳志明" not in out and "王大同" not in out


def test_pseudonym_code_depends_on_the_label_not_the_role():
    """與會者HH in one run and 官員GY in another was the bug: the letters must not move."""
    labels = ["陳志明", "經濟部王處長", "林美華", "陳志明", "黃俊傑"]
    plain, manifest = _r(), _r()
    plain.order(labels)
    manifest.order(labels)
    # Without a manifest everyone is a participant; with one, 王處長 is an official.
    a = {lab: plain.speaker(lab, "participant") for lab in labels}
    b = {lab: manifest.speaker(lab, "official" if "處長" in lab else "participant",
                               "處長" if "處長" in lab else None) for lab in labels}
    assert a == {"陳志明": "與會者A", "經濟部王處長": "與會者B", "林美華": "與會者C",
                 "黃俊傑": "與會者D"}
    assert b["經濟部王處長"] == "官員B（處長）"
    assert {k: v for k, v in b.items() if k != "經濟部王處長"} == {
        k: v for k, v in a.items() if k != "經濟部王處長"}
    # The official's short form in the room becomes the pseudonym (not 〇處長).
    assert manifest.text("謝謝王處長的說明") == "謝謝官員B（處長）的說明"


def test_labels_seen_only_by_speaker_get_the_next_codes():
    r = _r()
    r.order(["甲君", None, "主持人", "乙君"])
    assert r.speaker("丙君", "participant") == "與會者C"
    assert r.speaker("乙君", "moderator") == "主持人B"
    assert r.speaker("主持人", "moderator") == "主持人"


def test_same_label_keeps_its_title_when_asked_again_without_one():
    r = _r()
    assert r.speaker("內政部代表", "official", "內政部") == "官員A（內政部）"
    assert r.speaker("內政部代表", "official") == "官員A（內政部）"


@pytest.mark.parametrize("text,expected", [
    ("謝謝陳執行長的分享", "謝謝〇執行長的分享"),
    ("林經理剛剛提到", "〇經理剛剛提到"),
    ("鄭理事長、謝先生和黃董事長", "〇理事長、〇先生和〇董事長"),
    ("蘇總經理說", "〇總經理說"),
    ("請陳小姐、王女士、林太太", "請〇小姐、〇女士、〇太太"),
    ("高先生、林先生、方先生", "〇先生、〇先生、〇先生"),
    ("張老闆和許老師還有周校長", "〇老闆和〇老師還有〇校長"),
    ("基金會的吳總幹事與蔡秘書長", "基金會的〇總幹事與〇秘書長"),
    ("請林美華小姐和陳志明先生", "請〇〇〇小姐和〇〇〇先生"),
    ("歐陽先生與張簡老師", "〇〇先生與〇〇老師"),
    ("謝謝王老師", "謝謝〇老師"),
])
def test_surname_and_personal_title(text: str, expected: str):
    r = _r()
    assert r.text(text) == expected
    assert r.counts["name_title"] >= 1


@pytest.mark.parametrize("text,expected", [
    ("盧姐說得對", "〇姐說得對"),
    ("陳姐和王哥都來了", "〇姐和〇哥都來了"),
    ("林大哥、張阿姨", "〇大哥、〇阿姨"),
])
def test_kinship_forms(text: str, expected: str):
    r = _r()
    assert r.text(text) == expected
    assert r.counts["name_kinship"] >= 1


@pytest.mark.parametrize("text,expected,kind", [
    ("我姓黃，是社區的", "我姓〇，是社區的", "name_surname"),
    ("敝姓林", "敝姓〇", "name_surname"),
    ("政委、大家早安，我是永信社會福利基金會的主任，我姓黃，",
     "政委、大家早安，我是永信社會福利基金會的主任，我姓〇，", "name_surname"),
    ("我是小洋，來自台東", "我是〇〇，來自台東", "name_introduced"),
    ("大家好，我叫阿德", "大家好，我叫〇〇", "name_introduced"),
    ("叫我小洋就好", "叫我〇〇就好", "name_introduced"),
    ("我是陳志明，做漁業的", "我是〇〇，做漁業的", "name_introduced"),
    ("你好，我叫邱志一。", "你好，我叫〇〇。", "name_introduced"),
    ("大家好，我是高雄市社會創業協會的總幹事魏惠伶。",
     "大家好，我是高雄市社會創業協會的總幹事〇〇。", "name_introduced"),
    ("我是金管會證券期貨局的陳怡秀，謝謝。", "我是金管會證券期貨局的〇〇，謝謝。", "name_introduced"),
    ("在我旁邊這位是鄭佩欣。", "在我旁邊這位是〇〇。", "name_introduced"),
    ("我是能源署的林組長，我是戴經理。", "我是能源署的林組長，我是〇經理。", "name_title"),
    ("我是觀光局，我姓邱，邱重榮，謝謝。", "我是觀光局，我姓〇，〇〇，謝謝。", "name_introduced"),
])
def test_self_introductions(text: str, expected: str, kind: str):
    r = _r()
    assert r.text(text) == expected
    assert r.counts[kind] >= 1


def test_introduced_name_is_removed_wherever_it_recurs():
    r = _r()
    texts = ["阿德剛剛說的我同意", "我叫阿德，在池上種田", "我是陳志明。", "志明講的補助"]
    for t in texts:
        r.learn(t)
    out = [r.text(t) for t in texts]
    assert out == ["〇〇剛剛說的我同意", "我叫〇〇，在池上種田", "我是〇〇。", "〇〇講的補助"]
    assert r.counts["name_introduced"] == 4


@pytest.mark.parametrize("text", [
    "王道、高雄、林業、黃金、方面、馬上、石化、金融、江湖、白天、成本、周邊、程度。",
    "陳述、李子、石頭、江河、高度、周末、金額、連結、溫度、施工、程序、曾經、許多、何時、余額。",
    "謝謝老師，感謝先生，擔任理事長，現任董事長，對方老闆，歷史老師，任何老師，大陸老闆。",
    "這位先生、各位女士、我太太、學校老師、公司總經理、基金會執行長、副理事長、小姐。",
    "我是小農，我是高中生，我是林業署的，我是陳情人，我是說，我是阿美族。",
    "我是台中林業生產合作社的監事，我是協會的理事長，我是XX會的董事，我是社會局的顧問。",
    "王處長和林局長回應，陳部長、張政委、李委員、黃科長、吳次長、劉縣長都同意。",
    "帥哥、大哥、表姐、學姐、阿姨、哥哥。",
    "工程師、下游老闆、有錢老闆、也許老師會說。",
])
def test_common_words_and_public_titles_are_untouched(text: str):
    r = _r()
    assert r.text(text) == text
    assert not r.counts


def test_placeholders_never_become_tokens():
    """〇 is a numeral to the segmenter, so a redacted name cannot become a keyword."""
    from pipeline.segment import get_segmenter

    r = _r()
    out = r.text("我是小洋，謝謝陳執行長和盧姐，我姓黃，林美華小姐也來了。")
    tokens = get_segmenter(load_config().segment).tokens(out)
    assert not any("〇" in t for t in tokens)
    assert {"小洋", "盧姐", "陳", "黃", "林美華"}.isdisjoint(tokens)


def test_placeholder_pattern_blanks_everything_redaction_writes():
    blank = placeholder_pattern(RedactConfig())
    text = "與會者BZ說官員C（內政部）打[電話]給〇執行長和〇〇，我姓〇"
    assert blank.sub(" ", text).split() == ["說", "打", "給", "執行長和", "，我姓"]


def test_context_names_can_be_switched_off():
    r = Redactor(RedactConfig(context_names=False))
    assert r.text("謝謝陳執行長") == "謝謝陳執行長"


def test_disabled_keeps_text():
    r = Redactor(RedactConfig(enabled=False))
    assert r.text("0912-345-678") == "0912-345-678"


# --- issue 16: more recognisers, label forms, metadata, settings never in clear ------------


@pytest.mark.parametrize("text, secret, tag", [
    ("我家在台東縣池上鄉中山路一段12巷3號2樓，歡迎來坐。", "中山路一段12巷3號2樓", "台東縣池上鄉[地址]"),
    ("地址是高雄市前鎮區成功二路88號", "成功二路88號", "高雄市前鎮區[地址]"),
    ("卡號4539 1488 0343 6467被盜刷", "4539 1488 0343 6467", "[卡號]"),
    ("請匯款到帳號 0123456789012 就好", "0123456789012", "[帳號]"),
    ("郵局戶頭(700)0001234-5678901", "0001234-5678901", "[帳號]"),
    ("加我LINE ID 是 meihua_lin88 比較快", "meihua_lin88", "[社群帳號]"),
    ("我的IG帳號 @tw.green 有照片", "@tw.green", "[社群帳號]"),
    ("辦公室電話2345-6789，白天都在", "2345-6789", "[電話]"),
    ("鄉下的電話是234-5678", "234-5678", "[電話]"),
])
def test_more_recognisers(text: str, secret: str, tag: str):
    r = _r()
    out = r.text(text)
    assert secret not in out and tag in out


@pytest.mark.parametrize("text", [
    "2030-2050年的減碳路徑要講清楚。",    # a year range, not a local number
    "預算1234-5678元之間。",               # an amount
    "卡號4539 1488 0343 6468寫錯了",       # fails the Luhn check: not a card number
    "我們用LINE Pay付款，IG上面也有。",     # platforms without an ID
    "我們在中正路上有一家店。",             # a road without a number
    "民國112年3月5號在中山路開會。",         # a date
])
def test_more_recognisers_leave_lookalikes(text: str):
    assert _r().text(text) == text


def test_luhn():
    from pipeline.ingest.recognisers import luhn_ok

    assert luhn_ok("4539148803436467") and not luhn_ok("4539148803436468")


@pytest.mark.parametrize("label, name, org", [
    ("蔡宜芳（地球公民）", "蔡宜芳", "地球公民"),
    ("蔡宜芳(地球公民)", "蔡宜芳", "地球公民"),
    ("蔡宜芳/地球公民", "蔡宜芳", "地球公民"),
    ("地球公民 蔡宜芳", "蔡宜芳", "地球公民"),
    ("歐陽志遠", "歐陽志遠", None),
    ("內政部代表", None, None),
    ("林小姐", None, None),
])
def test_label_forms(label: str, name: str | None, org: str | None):
    from pipeline.ingest.redact import split_label

    assert split_label(label) == (name, org)


def test_label_with_affiliation_keeps_the_organisation_and_loses_the_name():
    r = _r()
    assert r.speaker("蔡宜芳（地球公民）", "participant") == "與會者A（地球公民）"
    out = r.text("剛剛蔡宜芳講的，宜芳說得很好。")
    assert "宜芳" not in out and out.count("與會者A（地球公民）") == 2


def test_four_character_names_lose_the_given_name():
    r = _r()
    r.speaker("歐陽志遠", "participant")
    r.speaker("張簡美玲", "participant")
    out = r.text("志遠跟美玲都說過，歐陽志遠也寫了。")
    assert "志遠" not in out and "美玲" not in out


def test_metadata_columns_redacted_or_dropped():
    row = {"text": "x", "meta_聯絡電話": 912345678, "meta_Email": "a@b.tw",
           "meta_備註": "住台東市中華路二段88號", "meta_份數": 3, "session_note": None}
    r = _r()
    r.metadata(row, ["meta_聯絡電話", "meta_Email", "meta_備註", "meta_份數", "session_note"])
    assert "meta_聯絡電話" not in row and "meta_Email" not in row
    # Kept values are text, one type per column: no mixed-type pyarrow failure.
    assert row["meta_備註"] == "住台東市[地址]" and row["meta_份數"] == "3"
    assert row["session_note"] is None
    drop = Redactor(RedactConfig(metadata_columns="drop"))
    row = {"meta_備註": "好", "text": "x"}
    drop.metadata(row, ["meta_備註"])
    assert row == {"text": "x"} and drop.counts["metadata_dropped"] == 1


def test_extra_names_never_written_in_clear():
    import yaml

    cfg = load_config(overrides=["redact.extra_names=[林美華]"])
    dumped = yaml.safe_dump(cfg.to_dict(), allow_unicode=True) + cfg.model_dump_json()
    assert "林美華" not in dumped and "sha256:" in dumped
    assert cfg.redact.extra_names == ["林美華"]  # in memory, redaction still has the name
    assert cfg.hash() != load_config(overrides=["redact.extra_names=[林美玲]"]).hash()
    # A config.yaml read back holds digests: valid, and they match no text.
    again = load_config(overrides=[f"redact.extra_names={cfg.to_dict()['redact']['extra_names']}"])
    assert Redactor(again.redact).text("林美華說") == "林美華說"


def test_config_hash_leaves_out_cache_locations():
    base = load_config().hash()
    for item in ["embed.cache_dir=/elsewhere", "embed.models_dir=/m", "segment.cache_dir=/s",
                 "embed.cache=false"]:
        assert load_config(overrides=[item]).hash() == base, item
    assert load_config(overrides=["embed.precision=fp32"]).hash() != base


def test_a_label_that_is_a_word_is_not_masked_in_the_text():
    # Minutes' headings (### 時間：) and list lines (能源：太陽能) are read as speaker labels;
    # their pseudonym must not replace the word everywhere (「工作時間」 stayed 「工作與會者TU」).
    from pipeline.config import RedactConfig
    from pipeline.ingest.redact import Redactor

    r = Redactor(RedactConfig())
    r.speaker("時間", "participant")
    r.speaker("陳聖凱", "participant")
    out = r.text("工作時間很長，陳聖凱說再生能源的時間不夠。")
    assert "工作時間" in out and "的時間" in out
    assert "陳聖凱" not in out
