"""``tamis tokenizer train``: a byte-level BPE tokenizer trained on a corpus (the cleaned one).

The ``tokenizers`` library's BPE trainer does the work; tamis feeds it the documents its
readers yield (JSONL, Parquet, text, a run's ``output/``). Byte-level: the 256 byte symbols
are always in the vocabulary, so every text encodes, nothing is unknown, and decoding gives
the text back exactly; no normaliser and no prefix space are added.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tamis.errors import ConfigError
from tamis.io.atomic import write_bytes_atomic
from tamis.io.readers import BadRecord, ReaderOptions, plan_tasks, read_task

DEFAULT_SPECIAL_TOKENS = ("<|endoftext|>",)
BYTE_SYMBOLS = 256


@dataclass
class TrainResult:
    path: Path
    vocab_size: int
    documents: int
    skipped: int  # bad input records (not used for training)
    special_tokens: list[str] = field(default_factory=list)


def _texts(inputs: list[str], options: ReaderOptions, input_format: str | None, counts: dict[str, int], limit: int | None) -> Iterator[str]:
    for task in plan_tasks(inputs, options, input_format):
        for item in read_task(task, options):
            if limit is not None and counts["documents"] >= limit:
                return
            if isinstance(item, BadRecord):
                counts["skipped"] += 1
                continue
            counts["documents"] += 1
            yield item.text


def train_tokenizer(
    inputs: list[str],
    output: str,
    vocab_size: int,
    *,
    special_tokens: list[str] | None = None,
    min_frequency: int = 2,
    input_format: str | None = None,
    reader: ReaderOptions | None = None,
    limit: int | None = None,
    threads: int | None = None,
) -> TrainResult:
    specials = list(DEFAULT_SPECIAL_TOKENS if special_tokens is None else special_tokens)
    if len(set(specials)) != len(specials):
        raise ConfigError("--special-tokens: a token is given twice")
    if vocab_size < BYTE_SYMBOLS + len(specials):
        msg = f"--vocab-size {vocab_size} is too small: a byte-level vocabulary holds {BYTE_SYMBOLS} byte symbols plus {len(specials)} special token(s)"
        raise ConfigError(msg)
    if min_frequency < 1:
        raise ConfigError("--min-frequency must be at least 1")
    if threads is not None:
        if threads < 1:
            raise ConfigError("--workers must be at least 1")
        os.environ["RAYON_NUM_THREADS"] = str(threads)  # read when the trainer's pool starts
    out = Path(output)
    if out.is_dir():
        msg = f"--output {out} is a directory: give the tokenizer file to write (tokenizer.json)"
        raise ConfigError(msg)
    options = reader or ReaderOptions()
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    counts = {"documents": 0, "skipped": 0}
    tokenizer.train_from_iterator(_texts(inputs, options, input_format, counts, limit), trainer=trainer)
    if counts["documents"] == 0:
        raise ConfigError("no document to train on: every input record was empty or bad")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(out, tokenizer.to_str(pretty=True).encode("utf-8"))
    return TrainResult(out, tokenizer.get_vocab_size(with_added_tokens=True), counts["documents"], counts["skipped"], specials)
