"""Word segmentation on real Traditional Chinese (pipeline/segment/), no mocks.

The default Segmenter uses the user cache dir like the CLI does, so only the first run on
a machine pays for deriving the dictionary; the cache tests use their own empty dir.
"""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

from pipeline.config import SegmentConfig, resolve_path
from pipeline.segment import Segmenter, dictionary, get_segmenter

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
CITYU = SHARED / "corpora" / "sighan2005-cityu"

# F1 measured by bench/segmentation.py with the default config (0.871); the margin only
# absorbs harmless changes such as new domain words.
CITYU_F1_FLOOR = 0.86


@pytest.fixture(scope="module")
def seg() -> Segmenter:
    return get_segmenter(SegmentConfig())


def _domain_words() -> list[str]:
    path = resolve_path(SegmentConfig().dictionaries[0])
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.append(line.split()[0])
    return words


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("我覺得漁電共生要先問漁民，公正轉型不能只是口號。", ["漁電共生", "公正轉型", "漁民"]),
        ("碳費對中小企業壓力很大，綠電也不夠。", ["碳費", "中小企業", "綠電"]),
        ("2050年淨零排放，離岸風電和太陽光電要加速，還有儲能。",
         ["淨零排放", "離岸風電", "太陽光電", "儲能"]),
        ("氣候變遷因應法通過後，碳費開徵", ["氣候變遷因應法", "碳費", "開徵"]),
        ("減碳費用誰來出", ["減碳", "費用"]),
        ("政府應該徵收碳費，並且專款專用在公正轉型基金", ["徵收", "碳費", "公正轉型基金"]),
    ],
)
def test_domain_words_stay_whole(seg: Segmenter, text: str, words: list[str]) -> None:
    cut = seg.cut(text)
    for w in words:
        assert w in cut, (w, cut)


def test_every_domain_word_alone_is_one_word(seg: Segmenter) -> None:
    broken = {w: seg.cut(w) for w in _domain_words() if seg.cut(w) != [w]}
    assert not broken


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("政府應該加強社會溝通", "政府 應該 加強 社會溝通"),
        ("電價上漲會影響弱勢家庭的生活", "電價 上漲 會 影響 弱勢家庭 的 生活"),
        ("農民擔心光電板影響農地", "農民 擔心 光電板 影響 農地"),
        ("臺北市的大眾運輸很方便", "臺北市 的 大眾運輸 很 方便"),
        # Taiwan (裡) and Hong Kong (裏) forms are both in the derived dictionary.
        ("這裡的資料和這裏的資料", "這裡 的 資料 和 這裏 的 資料"),
        # Numbers stay whole; numeral and measure word are two words.
        ("我們在2023年10月30日開了3場座談會，有100多名民眾參加",
         "我們 在 2023 年 10月 30 日 開 了 3 場 座談會 ， 有 100 多 名 民眾 參加"),
        ("一個人每年要繳多少錢", "一 個 人 每 年 要 繳 多少 錢"),
    ],
)
def test_traditional_text_is_segmented_sensibly(seg: Segmenter, text: str, expected: str) -> None:
    assert " ".join(seg.cut(text)) == expected


def test_cut_returns_the_text_unchanged_without_whitespace(seg: Segmenter) -> None:
    text = "２０５０年\u3000ESG 報告——有３０％，COVID-19之後……\ufeff好"
    cut = seg.cut(text)
    assert "".join(cut) == "".join(text.replace("\ufeff", "").split())
    # Full-width characters are matched as half-width but returned as written.
    assert "２０５０" in cut and "——" in cut and "……" in cut and "COVID-19" in cut
    assert all(w.strip() for w in cut)
    assert seg.cut("") == [] and seg.cut("   ") == []


def test_tokens_remove_stopwords_fillers_punctuation_and_numbers(seg: Segmenter) -> None:
    text = "嗯，其實就是說，那個碳費的話，我覺得對中小企業啊壓力很大。2050年ESG報告有３０％"
    tokens = seg.tokens(text)
    assert {"碳費", "中小企業", "壓力", "esg", "報告"} <= set(tokens)
    for gone in ["嗯", "其實", "就是說", "那個", "的話", "我", "覺得", "對", "啊", "，", "。",
                 "2050", "年", "３０", "％", "ESG"]:
        assert gone not in tokens, gone


def test_tokens_many_matches_tokens(seg: Segmenter) -> None:
    texts = ["綠領人才怎麼培育", "", "然後，嗯，好"]
    assert seg.tokens_many(texts) == [seg.tokens(t) for t in texts]
    assert seg.tokens_many(texts)[2] == []


def test_stopword_files_are_read_with_comments(seg: Segmenter) -> None:
    assert {"的", "然後", "就是", "嗯", "欸", "ok"} <= seg.stopwords
    assert not any(w.startswith("#") for w in seg.stopwords)


def test_get_segmenter_is_cached_per_segmentation_config() -> None:
    a = get_segmenter(SegmentConfig())
    assert get_segmenter(SegmentConfig()) is a
    # Unit shaping is not about words and must not cost a second set-up.
    assert get_segmenter(SegmentConfig(unit="turn", window_size=5)) is a
    no_hmm = get_segmenter(SegmentConfig(hmm=False))
    assert no_hmm is not a and no_hmm.cut("公正轉型") == ["公正轉型"]


def test_default_dictionary_is_not_rebuilt_on_a_second_setup(seg: Segmenter) -> None:
    before = dictionary.BUILD_COUNT
    mtime = seg.dictionary_path.stat().st_mtime_ns
    again = Segmenter(SegmentConfig())
    assert not again.built and dictionary.BUILD_COUNT == before
    assert again.dictionary_path == seg.dictionary_path
    assert seg.dictionary_path.stat().st_mtime_ns == mtime


def test_cache_is_built_once_and_keyed_by_dictionary_content(tmp_path: Path) -> None:
    # The jieba-default base builds in a few seconds; the traditional one takes the same
    # path through _ensure_dictionary with more work in between.
    domain = tmp_path / "domain.txt"
    domain.write_text("# test words\n漁電共生 800 n\n", encoding="utf-8")
    cfg = SegmentConfig(base_dictionary="jieba-default", dictionaries=[str(domain)],
                        cache_dir=str(tmp_path / "cache"))
    (tmp_path / "cache").mkdir()
    stale = tmp_path / "cache" / "dict.traditional.0ld0ld00.txt"
    recent = tmp_path / "cache" / "dict.traditional.0ther000.txt"
    stale.write_text("x 1 n\n", encoding="utf-8")
    recent.write_text("x 1 n\n", encoding="utf-8")
    month_ago = time.time() - dictionary.STALE_AFTER_S - 60
    os.utime(stale, (month_ago, month_ago))

    before = dictionary.BUILD_COUNT
    first = Segmenter(cfg)
    assert first.built and dictionary.BUILD_COUNT == before + 1
    assert not stale.exists() and recent.exists(), "a build prunes month-old dictionaries"
    prefix = first.dictionary_path.with_suffix(".prefix.pickle")
    stamps = (first.dictionary_path.stat().st_mtime_ns, prefix.stat().st_mtime_ns)

    second = Segmenter(cfg)
    assert not second.built and dictionary.BUILD_COUNT == before + 1
    assert (second.dictionary_path.stat().st_mtime_ns, prefix.stat().st_mtime_ns) == stamps
    assert second.cut("漁電共生") == ["漁電共生"]
    assert not list((tmp_path / "cache").glob("*.tmp")), "atomic writes leave no temp files"

    # A damaged prefix cache is rebuilt, not trusted and not fatal.
    prefix.write_bytes(b"not a pickle")
    os.utime(prefix, ns=(stamps[0] + 1, stamps[0] + 1))
    assert Segmenter(cfg).cut("漁電共生") == ["漁電共生"]

    domain.write_text("漁電共生 800 n\n社區綠能合作社 1500 n\n", encoding="utf-8")
    third = Segmenter(cfg)
    assert third.built and third.dictionary_path != first.dictionary_path
    assert "社區綠能合作社" in third.cut("我們成立社區綠能合作社")


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_segmentation",
                                                  REPO / "bench" / "segmentation.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.skipif(not CITYU.exists(), reason="../shared/corpora/sighan2005-cityu not present")
def test_cityu_f1_at_least_the_measured_level(seg: Segmenter) -> None:
    bench = _bench_module()
    test = bench.read_lines(CITYU / "testing" / "cityu_test.utf8")
    gold = bench.split_output(bench.read_lines(CITYU / "gold" / "cityu_test_gold.utf8"))
    pred = bench.split_output([" ".join(seg.cut(line)) for line in test])
    score = bench.prf(gold, pred)
    assert score["misaligned_lines"] == 0
    assert score["f1"] >= CITYU_F1_FLOOR, score
