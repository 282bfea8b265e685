"""The fast spaCy-algorithm word splitter against its plain reference, on all the real text here.

    .venv/bin/python bench/check_spacy_tokenizer.py [--languages en,fr] [--limit 0]

For every language in ``spacy_rules.json.gz``: every distinct whitespace chunk (up to
``MAX_CHUNK`` characters) of the system's gettext catalogs of that language
(/usr/share/locale/<lang>*/LC_MESSAGES/*.mo; languages without catalogs read a neighbour's) and
of its man pages (/usr/share/man/<lang>*, roff stripped by bench/corpus.py; English: the
untranslated sections), cut by ``SpacyTokenizerReference``, by ``SpacyTokenizer``'s Python path
and by its compiled path (``tamis/_native/spacy_split.c``); then every whole text split into
words by the compiled ``tokenize`` and by ``tokenize_reference``. Prints per language the chunks
compared, how many are cut differently (must be 0: either path against the reference, and
texts whose words differ), and the CPU seconds of each tokenizer's build and first pass over
the chunks (every chunk new to it, the cost the memo does not hide).
"""

from __future__ import annotations

import argparse
import gettext
import glob
import gzip
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
NEIGHBOUR = {"dsb": "cs", "hsb": "pl", "la": "it", "lb": "de", "lij": "it", "tn": "en", "xx": "fr", "nb": "no"}


def catalog_texts(code: str) -> list[str]:
    texts: list[str] = []
    for folder in sorted(glob.glob(f"/usr/share/locale/{code}*/LC_MESSAGES")):
        if re.split("[_@.]", Path(folder).parent.name)[0] != code:
            continue
        for path in sorted(glob.glob(f"{folder}/*.mo")):
            try:
                with open(path, "rb") as handle:
                    texts.extend(str(text) for text in gettext.GNUTranslations(handle)._catalog.values())  # type: ignore[attr-defined]
            except (OSError, UnicodeDecodeError, KeyError, ValueError, IndexError):
                continue
    return texts


def man_texts(code: str) -> list[str]:
    sys.path.insert(0, str(HERE))
    from corpus import _decode, roff_to_text

    pattern = "/usr/share/man/man*/*" if code == "en" else f"/usr/share/man/{code}*/**/*.*"
    texts = []
    for path in sorted(glob.glob(pattern, recursive=True)):
        if code != "en" and re.split("[_@.]", path.split("/")[4])[0] != code:
            continue
        try:
            raw = gzip.open(path).read() if path.endswith(".gz") else open(path, "rb").read()  # noqa: SIM115
        except (OSError, EOFError, IsADirectoryError):
            continue
        texts.append(roff_to_text(_decode(raw)))
    return texts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", default="", help="comma-separated spaCy codes (default: all)")
    parser.add_argument("--limit", type=int, default=0, help="at most this many chunks per language (0: all)")
    args = parser.parse_args()

    from tamis.steps.quality import spacy_tokenizer as spacy

    languages = args.languages.split(",") if args.languages else sorted(spacy._payload()["languages"])
    total = differ = 0
    times = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]
    print(f"{'lang':5s} {'chunks':>8s} {'differ':>6s}   build ref / fast / compiled (CPU s)   first pass ref / fast / compiled (CPU s)")
    for language in languages:
        code = NEIGHBOUR.get(language, language)
        texts = catalog_texts(code) + man_texts(code)
        chunks = list(dict.fromkeys(chunk for text in texts for chunk in text.split() if len(chunk) <= spacy.MAX_CHUNK))
        if args.limit:
            chunks = chunks[: args.limit]
        started = time.process_time()
        reference = spacy.SpacyTokenizerReference(language)
        built_reference = time.process_time() - started
        started = time.process_time()
        fast = spacy.SpacyTokenizer(language, compiled=False)
        built_fast = time.process_time() - started
        started = time.process_time()
        compiled = spacy.SpacyTokenizer(language, compiled=True)  # from the stored tables where there are some
        built_compiled = time.process_time() - started
        started = time.process_time()
        expected = [reference.chunk_tokens(chunk) for chunk in chunks]
        pass_reference = time.process_time() - started
        started = time.process_time()
        found = [fast.chunk_tokens(chunk) for chunk in chunks]
        pass_fast = time.process_time() - started
        started = time.process_time()
        found_compiled = [compiled._native.chunk_tokens(chunk) for chunk in chunks] if compiled._native else found
        pass_compiled = time.process_time() - started
        wrong = [(chunk, a, b) for chunk, a, b in zip(chunks, expected, found, strict=True) if a != b]
        wrong += [(chunk, a, b) for chunk, a, b in zip(chunks, expected, found_compiled, strict=True) if a != b]
        whole = [text for text in texts if spacy.tokenize(text, compiled, str.split) != spacy.tokenize_reference(text, fast, str.split)]
        wrong += [(text[:60], "(whole text)", "words differ") for text in whole]
        for chunk, a, b in wrong[:5]:
            print(f"    DIFFERS {language} {chunk!r}: reference {a} fast {b}")
        total += len(chunks)
        differ += len(wrong)
        for k, seconds in enumerate((built_reference, built_fast, built_compiled, pass_reference, pass_fast, pass_compiled)):
            times[k] += seconds
        print(f"{language:5s} {len(chunks):8,d} {len(wrong):6d}   {built_reference:6.3f} / {built_fast:6.3f} / {built_compiled:6.3f}"
              f"            {pass_reference:6.2f} / {pass_fast:6.2f} / {pass_compiled:6.2f}{'' if code == language else f'   (text: {code})'}")
    print(f"all   {total:8,d} {differ:6d}   {times[0]:6.3f} / {times[1]:6.3f} / {times[2]:6.3f}            {times[3]:6.2f} / {times[4]:6.2f} / {times[5]:6.2f}")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
