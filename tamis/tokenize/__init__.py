"""Training-ready token shards: ``tamis tokenize`` and ``tamis tokenizer train``.

- :mod:`tamis.tokenize.encoder` — the tokenizer, encoded on one core in batches (long texts in
  pieces cut where the tokenizer cuts anyway);
- :mod:`tamis.tokenize.formats` — Megatron ``.bin``/``.idx``, datatrove ``.ds``, flat memmaps;
- :mod:`tamis.tokenize.tasks` — the encode tasks (sorted spills) and the shard writers;
- :mod:`tamis.tokenize.run` — config, TOKDIR, the driver (executors, markers, ``--resume``);
- :mod:`tamis.tokenize.report` — ``TOKDIR/report.html``;
- :mod:`tamis.tokenize.train` — a byte-level BPE tokenizer trained on the corpus.
"""
