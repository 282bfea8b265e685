"""bench/extract_recall.py and bench/extract_precision.py read scrapinghub-aeb's DEVELOPMENT half
(bench_extract.halves, the split every bench and fit scores) and never its held-out half."""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

ARTICLE = "<html><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav><article>{}</article><footer>Contact us</footer></body></html>"


def _fake_aeb(corpus: Path, count: int) -> dict[str, str]:
    """A scrapinghub-aeb folder as load_aeb reads it: ground-truth.json and html/KEY.html.gz."""
    folder = corpus / "scrapinghub-aeb" / "html"
    folder.mkdir(parents=True)
    truth = {}
    for number in range(count):
        key = f"{number:064x}"
        body = " ".join(f"Paragraph {number} sentence {word} of the article body goes on here." for word in range(12))
        truth[key] = {"articleBody": body, "url": f"https://example.org/{number}"}
        (folder / f"{key}.html.gz").write_bytes(gzip.compress(ARTICLE.format(f"<p>{body}</p>").encode()))
    (corpus / "scrapinghub-aeb" / "ground-truth.json").write_text(json.dumps(truth))
    return {key: record["articleBody"] for key, record in truth.items()}


def test_attribution_reads_aebs_development_half_only(tmp_path):
    import bench_extract
    import extract_precision
    import extract_recall

    truth = _fake_aeb(tmp_path / "corpus", 12)
    development, held_out = bench_extract.halves(list(truth))
    assert development and held_out  # the fake set has both halves, so the test can tell them apart
    workdir = tmp_path / "work"
    workdir.mkdir()
    # trafilatura's texts come from the cache (the test needs no trafilatura)
    (workdir / "trafilatura.pickle").write_bytes(pickle.dumps(dict(truth)))
    args = argparse.Namespace(corpus=tmp_path / "corpus", wceb=None, wcxb=None, workdir=workdir, sets=["aeb"], limit=0)
    sets, teacher = extract_recall.development_sets(args)
    (pages,) = sets.values()
    assert {page.key for page in pages} == development
    page = pages[0]
    assert page.page_type == "article" and page.gold == truth[page.key] and page.url.startswith("https://example.org/")
    # both tools attribute such a page: the article is kept whole, nothing lost, nothing extra
    recall = extract_recall.analyse(page.key, page.url, page.page_type, page.raw, page.gold, teacher[page.key], False)
    assert recall is not None and recall.recall > 0.9
    extra = extract_precision.analyse(page.key, page.url, page.page_type, page.raw, page.gold, teacher[page.key])
    assert extra is not None and extra.output_total > 0 and extra.extra_total == 0
