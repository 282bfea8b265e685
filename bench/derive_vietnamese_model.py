"""Write tamis/steps/quality/vietnamese_model.json.gz from pyvi's word-segmentation model (run by hand).

pyvi (Viet-Trung Tran, MIT licence) segments Vietnamese syllables into words with a linear-chain
CRF trained by CRFsuite and pickled as a ``sklearn_crfsuite.CRF`` (``pyvi/models/pyvi3.pkl``), and
looks up bigrams and trigrams of syllables in ``pyvi/models/words.txt``. FineWeb-2 counts
Vietnamese words with it (datatrove runs spaCy's Vietnamese tokenizer, which calls pyvi).
Unpickling that model needs scikit-learn and scipy; this script, run once where pyvi is
installed (the bench venv), reads the CRFsuite model file inside the pickle and writes what
tamis needs to run the same model without them:

- ``labels`` (``B_W``, ``I_W``) and ``transitions[from][to]``;
- ``state``: attribute name -> [weight for B_W, weight for I_W] (0.0 where the model has no
  feature for that label, which adds nothing to a score);
- ``bigrams`` / ``trigrams``: pyvi's syllable n-grams that can match (pyvi compares the
  lower-cased n-gram, so entries with an upper-case letter never match and are left out).

The weights are read from the model's binary file (CRFsuite's ``lCRF``/``FOMC`` layout: a header,
a feature chunk of (type, source, destination, float64 weight) records and CQDB string tables for
labels and attributes), not from CRFsuite's text dump, which rounds weights to six decimals.
JSON keeps each float64 exactly (``repr`` round-trips). The text dump is read as a check.

``--golden`` writes tests/vietnamese_golden.json.gz instead: pyvi's ``ViTokenizer.tokenize`` and
datatrove's Vietnamese ``word_tokenize`` of real Vietnamese text (the first characters of pages
of the bench's corpus: GNOME's and LibreOffice's Vietnamese help, see bench/bench_languages.py)
and of generated text (their syllables upper-cased, title-cased and mixed with abbreviations,
numbers, URLs, e-mail addresses, symbols, new lines and chunks long enough for the linear
path), so tests/test_vietnamese.py compares tamis with pyvi where pyvi is not installed.

Usage: /work/bench-venv/bin/python bench/derive_vietnamese_model.py [--golden --corpus CORPUS/vi.jsonl]
"""

from __future__ import annotations

import argparse
import gzip
import json
import pickle
import random
import re
import struct
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tamis" / "steps" / "quality" / "vietnamese_model.json.gz"


def _u32(data: bytes, offset: int) -> int:
    return struct.unpack_from("<I", data, offset)[0]


def read_cqdb(data: bytes, start: int) -> list[str]:
    """The strings of a CQDB database (CRFsuite's constant string<->id table), by id."""
    if data[start : start + 4] != b"CQDB":
        raise ValueError(f"no CQDB chunk at {start:#x}")
    bwd_size, bwd_offset = _u32(data, start + 16), _u32(data, start + 20)
    strings = []
    for identifier in range(bwd_size):
        record = start + _u32(data, start + bwd_offset + 4 * identifier)
        if _u32(data, record) != identifier:
            raise ValueError(f"CQDB record {identifier} names id {_u32(data, record)}")
        size = _u32(data, record + 4)
        strings.append(data[record + 8 : record + 8 + size - 1].decode("utf-8"))  # size counts the final NUL
    return strings


def read_crfsuite_model(data: bytes) -> tuple[list[str], list[str], list[tuple[int, int, int, float]]]:
    """(labels, attributes, features as (type, source, destination, weight)) of a CRFsuite 1st-order model."""
    if data[:4] != b"lCRF" or data[8:12] != b"FOMC":
        raise ValueError("not a CRFsuite first-order CRF model")
    off_features, off_labels, off_attrs = _u32(data, 28), _u32(data, 32), _u32(data, 36)
    if data[off_features : off_features + 4] != b"FEAT":
        raise ValueError("no feature chunk")
    count = _u32(data, off_features + 8)
    features = [struct.unpack_from("<IIId", data, off_features + 12 + 20 * k) for k in range(count)]
    return read_cqdb(data, off_labels), read_cqdb(data, off_attrs), features


def model_bytes(pyvi_dir: Path) -> bytes:
    with open(pyvi_dir / "models" / "pyvi3.pkl", "rb") as handle:
        crf = pickle.load(handle)  # sklearn_crfsuite.CRF: its model file is unpacked to a temporary path
    return Path(crf.modelfile.name).read_bytes()


def check_against_dump(data: bytes, state: dict[str, list[float]], transitions: list[list[float]]) -> None:
    """CRFsuite's own text dump of the same file (weights to six decimals) must say the same."""
    import pycrfsuite

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.crfsuite"
        path.write_bytes(data)
        tagger = pycrfsuite.Tagger()
        tagger.open(str(path))
        dump = Path(tmp) / "dump.txt"
        tagger.dump(str(dump))
        text = dump.read_text(encoding="utf-8")
    labels = {"B_W": 0, "I_W": 1}
    transitions_at = text.index("TRANSITIONS = {")
    # One feature a record; an attribute may hold a new line (pyvi's "\n" syllable), so records
    # are matched across lines rather than read line by line.
    record = re.compile(r"^  \((\d+)\) (.*?) --> (B_W|I_W): (-?\d+\.\d+)$", re.M | re.S)
    seen = 0
    for match in record.finditer(text, transitions_at):
        name, label, weight = match.group(2), match.group(3), float(match.group(4))
        ours = transitions[labels[name]][labels[label]] if match.group(1) == "1" else state[name][labels[label]]
        if abs(ours - weight) > 1e-6:
            raise ValueError(f"{name!r} -> {label}: dump {weight}, binary {ours!r}")
        seen += 1
    if seen != sum(weight != 0.0 for pair in [*state.values(), *transitions] for weight in pair):
        raise ValueError(f"the dump holds {seen} weights")
    print(f"checked {seen} weights against CRFsuite's dump")


GOLDEN = ROOT / "tests" / "vietnamese_golden.json.gz"
# Pieces that exercise each of pyvi's syllable alternatives and joining rules.
PIECES = [
    "a.b@c.com",
    "x@y",
    "@",
    "Tp.",
    "Mr.",
    "ThS.",
    "HN.",
    "ĐH.",
    "==>",
    "->",
    "...",
    ">>",
    "http://x.vn/a?b=1",
    "1.000",
    "2,5",
    "3_4",
    "12",
    "A",
    "Đ",
    "\n",
    "\r\n",
    "\t",
    "  ",
    "_",
    "-",
    ".",
    ",",
    "'",
    "Ω",
    "İ",
    "ΑΣ",
    "e\u0301",
    "ﬁ",
    "²",
    "٣",
    "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a@b.c",
]


def generated_texts(syllables: list[str], count: int, seed: int = 16) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for n in range(count):
        parts = []
        for _ in range(rng.randint(1, 60)):
            r = rng.random()
            if r < 0.55:
                parts.append(rng.choice(syllables))
            elif r < 0.8:
                parts.append(rng.choice(PIECES))
            else:
                parts.append(rng.choice(syllables).upper() if rng.random() < 0.5 else rng.choice(syllables).title())
            parts.append(rng.choice(["", " ", " ", " ", "\n", "  "]))
        text = "".join(parts)
        texts.append(text.replace(" ", "") if n % 7 == 0 else text)  # long chunks
    return texts


def write_golden(corpus: Path, out: Path, pages: int = 12, chars: int = 2500, generated: int = 150) -> None:
    from datatrove.utils.word_tokenizers import load_word_tokenizer
    from pyvi.ViTokenizer import ViTokenizer

    docs = [json.loads(line)["text"] for line in corpus.read_text(encoding="utf-8").splitlines()]
    real = [text[:chars] for text in docs[:: max(1, len(docs) // pages)][:pages]]
    syllables = sorted({s for text in docs[:40] for s in text.split()})
    words = load_word_tokenizer("vie_Latn")
    cases = [
        {"text": text, "pyvi": ViTokenizer.tokenize(text), "datatrove": words.word_tokenize(text)} for text in real + generated_texts(syllables, generated)
    ]
    payload = json.dumps(
        {
            "source": f"pyvi 0.1.1 ViTokenizer.tokenize and datatrove word_tokenize('vie_Latn'); "
            f"{len(real)} excerpts of {corpus.name} and {generated} generated texts",
            "cases": cases,
        },
        ensure_ascii=False,
        indent=0,
    ).encode("utf-8")
    out.write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(f"{len(cases)} cases -> {out} ({out.stat().st_size} bytes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    import pyvi

    parser.add_argument("--pyvi", default=str(Path(pyvi.__file__).parent), help="pyvi's package folder")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--golden", action="store_true", help="write the golden test sample instead")
    parser.add_argument("--corpus", default="/tmp/tamis-bench-languages-120/corpus/vi.jsonl", help="bench_languages.py's Vietnamese pages (for --golden)")
    args = parser.parse_args()
    if args.golden:
        write_golden(Path(args.corpus), GOLDEN)
        return
    pyvi_dir = Path(args.pyvi)
    data = model_bytes(pyvi_dir)
    labels, attributes, features = read_crfsuite_model(data)
    if labels != ["B_W", "I_W"]:
        raise ValueError(f"unexpected labels {labels}")
    transitions = [[0.0, 0.0], [0.0, 0.0]]
    state: dict[str, list[float]] = {}
    for kind, source, destination, weight in features:
        if kind == 0:
            state.setdefault(attributes[source], [0.0, 0.0])[destination] = weight
        elif kind == 1:
            transitions[source][destination] = weight
        else:
            raise ValueError(f"unknown feature type {kind}")
    check_against_dump(data, state, transitions)

    from pyvi.ViTokenizer import ViTokenizer  # the n-gram sets exactly as pyvi builds them

    bigrams = sorted(g for g in ViTokenizer.bi_grams if g == g.lower())
    trigrams = sorted(g for g in ViTokenizer.tri_grams if g == g.lower())
    model = {
        "source": "pyvi 0.1.1 (MIT, Viet-Trung Tran): models/pyvi3.pkl (CRFsuite model) and models/words.txt",
        "labels": labels,
        "transitions": transitions,
        "state": dict(sorted(state.items())),
        "bigrams": bigrams,
        "trigrams": trigrams,
    }
    payload = json.dumps(model, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    Path(args.out).write_bytes(gzip.compress(payload, compresslevel=9, mtime=0))
    print(
        f"{len(state)} attributes, {len(features)} features, {len(bigrams)} bigrams, {len(trigrams)} trigrams "
        f"-> {args.out} ({Path(args.out).stat().st_size} bytes)"
    )


if __name__ == "__main__":
    main()
