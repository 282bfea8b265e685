"""Exact line keys by script: a space between two Chinese or Japanese characters separates nothing."""

from pathlib import Path

from runutil import kept, run_recipe, write_jsonl

from tamis.dedup.shingles import line_key


def test_spaces_between_cjk_characters_do_not_change_the_key() -> None:
    assert line_key("我们的 服务条款 和隐私政策。") == line_key("我们的服务条款和隐私政策。")
    assert line_key("ご利用 ガイド 「よくある質問」") == line_key("ご利用ガイド「よくある質問」")
    assert line_key("版本 2.0 发布") != line_key("版本2.0发布")  # next to a Latin word or digit, a space stays
    assert line_key("안녕 하세요") != line_key("안녕하세요")  # Korean puts spaces between words
    assert line_key("Hello  World") == line_key("hello world")  # the usual normalisation still applies


def test_line_dedup_finds_a_chinese_line_with_stray_spaces(tmp_path: Path) -> None:
    boiler = "版权所有，未经许可不得转载。请遵守本站的服务条款和隐私政策。"
    records = [
        {"id": "z1", "text": f"第一篇文章讲的是北京的天气和交通情况。\n{boiler}"},
        {"id": "z2", "text": f"第二篇文章讲的是上海的美食和历史文化。\n{boiler[:10]} {boiler[10:20]}  {boiler[20:]}"},
    ]
    out = tmp_path / "run"
    run_recipe([write_jsonl(tmp_path / "x.jsonl", records)], out, [{"step": "exact_dedup", "unit": "line"}])
    texts = {d["id"]: d["text"] for d in kept(out)}
    assert texts["z2"] == "第二篇文章讲的是上海的美食和历史文化。"
