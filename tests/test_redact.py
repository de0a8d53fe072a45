from pipeline.config import RedactConfig
from pipeline.redact import Redactor


def test_patterns_are_replaced_and_counted():
    r = Redactor(RedactConfig())
    out = r.text("請打0912-345-678或(02)2345-6789，寄 mei.lin@example.org，身分證A123456789，居留證AC12345678。")
    for secret in ["0912-345-678", "2345-6789", "mei.lin@example.org", "A123456789", "AC12345678"]:
        assert secret not in out
    assert r.counts["phone"] == 2 and r.counts["email"] == 1 and r.counts["national_id"] == 2


def test_years_and_amounts_are_not_phones():
    r = Redactor(RedactConfig())
    text = "2050年淨零，預算300億元，112年有25場次。"
    assert r.text(text) == text


def test_stable_pseudonyms_and_names_in_text():
    r = Redactor(RedactConfig())
    assert r.speaker("林美華", "participant") == "與會者A"
    assert r.speaker("陳志明", "participant") == "與會者B"
    assert r.speaker("林美華", "participant") == "與會者A"
    assert r.speaker("王大同", "official", "處長") == "官員A（處長）"
    assert r.speaker("主持人", "moderator") == "主持人"
    out = r.text("剛剛美華和陳志明都提到，王大同處長也同意。")
    assert "美華" not in out and "陳志明" not in out and "王大同" not in out


def test_disabled_keeps_text():
    r = Redactor(RedactConfig(enabled=False))
    assert r.text("0912-345-678") == "0912-345-678"
