"""Language identification with the bundled fastText model."""

from __future__ import annotations

import pytest
from quality_docs import ENGLISH_ARTICLE, FRENCH_ARTICLE, reasons, run_step

from tamis.errors import ConfigError
from tamis.pipeline import build_steps
from tamis.steps.language import LanguageId
from tamis.steps.quality.languages import SUPPORTED_LANGUAGES

GERMAN = ("Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke über den Fluss zu erneuern. "
          "Die Arbeiten sollen im Frühjahr beginnen und werden etwa zwei Jahre dauern.")
SPANISH = ("El ayuntamiento aprobó el martes la reforma del mercado central, que lleva años cerrado. "
           "Las obras comenzarán en primavera y durarán casi dos años.")
FINNISH = ("Kaupunginvaltuusto päätti tiistaina korjata vanhan sillan joen yli. "
           "Työt alkavat keväällä ja kestävät noin kaksi vuotta.")


def test_identifies_and_records_language():
    kept, ctx = run_step(LanguageId(), [FRENCH_ARTICLE, ENGLISH_ARTICLE, GERMAN, SPANISH])
    assert [doc.metadata["language"] for doc in kept] == ["fr", "en", "de", "es"]
    assert all(doc.metadata["language_score"] > 0.65 for doc in kept)
    assert not ctx.rejected_records


def test_default_allows_every_language_and_a_list_narrows_it():
    assert LanguageId().allow == ["*"]
    kept, _ = run_step(LanguageId(), [FINNISH])
    assert kept[0].metadata["language"] == "fi"
    kept, ctx = run_step(LanguageId(allow=list(SUPPORTED_LANGUAGES[:7])), [FINNISH])
    assert not kept
    assert reasons(ctx) == ["language:not_allowed"]
    assert ctx.rejected_records[0]["metadata"]["language"] == "fi"


def test_allow_everything_and_restrict():
    kept, _ = run_step(LanguageId(allow=["*"]), [FINNISH])
    assert kept[0].metadata["language"] == "fi"
    kept, ctx = run_step(LanguageId(allow=["fr"]), [FRENCH_ARTICLE, ENGLISH_ARTICLE])
    assert [doc.id for doc in kept] == ["d0"]
    assert reasons(ctx) == ["language:not_allowed"]


def test_low_score():
    mixed = "OK merci danke gracias thanks ciao"
    kept, ctx = run_step(LanguageId(allow=["*"], min_score=0.99), [mixed])
    assert not kept
    assert reasons(ctx) == ["language:low_score"]
    assert ctx.rejected_records[0]["metadata"]["language_score"] < 0.99


def test_text_without_letters_has_no_language():
    _, ctx = run_step(LanguageId(), ["12 34 56 -- !!"])
    assert reasons(ctx) == ["language:low_score"]
    assert ctx.rejected_records[0]["metadata"]["language"] is None


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="min_score"):
        build_steps([{"step": "language", "min_score": 3}])
    with pytest.raises(ConfigError, match="allow"):
        build_steps([{"step": "language", "allow": "fr"}])
    step = LanguageId(model_path="/nonexistent/model.ftz")
    with pytest.raises(ConfigError, match="not found"):
        step.setup()
