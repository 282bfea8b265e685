"""The demo corpus: generated text, in seven languages, with the dirt tamis exists to remove.

Nothing here is copied from anywhere: sentences are assembled at random from small
hand-written word banks (determiners, nouns, verbs, adjectives ...) per language, so the text has
real stop words and punctuation and passes quality filters, while every document is
different. Into that clean base the generator plants, at fixed rates:

- exact duplicates of earlier documents (some with changed case or spacing),
- near duplicates (a few words deleted, replaced or swapped),
- pages whose paragraphs appear twice (a template that rendered the body twice),
- junk: one line repeated, a lorem-ipsum page, a page of menu words.

``write_demo_corpus`` writes it as JSONL.gz shards plus one Parquet shard and a folder of
plain-text files, so one run exercises every reader.
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import orjson

# Word banks written for tamis: determiners, nouns, verbs, adjectives, prepositions, adverbs and
# connectors per language. Words are drawn one at a time, so long word sequences rarely repeat
# inside a page (as in real prose, and unlike a phrase-level template that Gopher's duplicate
# n-gram rules would rightly reject).
BANKS: dict[str, dict[str, list[str]]] = {
    "en": {
        "D": "the a this our their every".split(),
        "N": "council farmer library neighbour river company student bridge harbour season report road valley garden school budget market museum train village doctor forest storm concert newspaper bakery".split(),
        "V": "opened described prepared discussed changed rebuilt studied presented visited repaired announced welcomed painted measured planned".split(),
        "A": "old new small quiet busy famous local green narrow public modern careful early".split(),
        "P": "in near behind for with after before across under".split(),
        "R": "yesterday quickly again slowly today finally recently together".split(),
        "C": "and but so while because although".split(),
    },
    "fr": {
        "D": "le la un une ce cette notre leur chaque".split(),
        "N": "conseil agricultrice médiathèque voisin rivière entreprise étudiant pont port saison rapport route vallée jardin école budget marché musée train village médecin forêt orage concert journal boulangerie".split(),
        "V": "a ouvert a décrit prépare a discuté a changé a reconstruit étudie a présenté a visité répare annonce accueille peint mesure organise".split(),
        "A": "ancien nouveau petit calme animé célèbre local vert étroit public moderne attentif".split(),
        "P": "dans près de derrière pour avec après avant sous".split(),
        "R": "hier rapidement encore lentement aujourd’hui enfin récemment ensemble".split(),
        "C": "et mais donc alors que parce que bien que".split(),
    },
    "de": {
        "D": "der die das ein eine unser jeder dieser".split(),
        "N": "Rat Bäuerin Bibliothek Nachbar Fluss Firma Student Brücke Hafen Saison Bericht Straße Tal Garten Schule Haushalt Markt Museum Zug Dorf Ärztin Wald Sturm Konzert Zeitung Bäckerei".split(),
        "V": "eröffnete beschrieb bereitete besprach änderte baute studierte präsentierte besuchte reparierte verkündete begrüßte malte maß plante".split(),
        "A": "alte neue kleine ruhige belebte berühmte lokale grüne schmale öffentliche moderne sorgfältige".split(),
        "P": "in neben hinter für mit nach vor über unter".split(),
        "R": "gestern schnell wieder langsam heute endlich kürzlich gemeinsam".split(),
        "C": "und aber also während weil obwohl".split(),
    },
    "es": {
        "D": "el la un una este esta nuestro cada".split(),
        "N": "consejo agricultora biblioteca vecino río empresa estudiante puente puerto temporada informe carretera valle jardín escuela presupuesto mercado museo tren pueblo médica bosque tormenta concierto periódico panadería".split(),
        "V": "abrió describió preparó discutió cambió reconstruyó estudió presentó visitó reparó anunció recibió pintó midió planificó".split(),
        "A": "antiguo nuevo pequeño tranquilo animado famoso local verde estrecho público moderno cuidadoso".split(),
        "P": "en cerca de detrás de para con después de antes de bajo".split(),
        "R": "ayer rápidamente otra vez despacio hoy finalmente recientemente juntos".split(),
        "C": "y pero así que mientras porque aunque".split(),
    },
    "it": {
        "D": "il la un una questo questa il nostro ogni".split(),
        "N": "consiglio contadina biblioteca vicino fiume azienda studente ponte porto stagione relazione strada valle giardino scuola bilancio mercato museo treno paese medica foresta temporale concerto giornale panetteria".split(),
        "V": "ha aperto ha descritto prepara ha discusso ha cambiato ha ricostruito studia ha presentato ha visitato ripara annuncia accoglie dipinge misura organizza".split(),
        "A": "antico nuovo piccolo tranquillo vivace famoso locale verde stretto pubblico moderno attento".split(),
        "P": "in vicino a dietro per con dopo prima di sotto".split(),
        "R": "ieri rapidamente ancora lentamente oggi finalmente recentemente insieme".split(),
        "C": "e ma quindi mentre perché sebbene".split(),
    },
    "pt": {
        "D": "o a um uma este esta o nosso cada".split(),
        "N": "conselho agricultora biblioteca vizinho rio empresa estudante ponte porto época relatório estrada vale jardim escola orçamento mercado museu comboio aldeia médica floresta tempestade concerto jornal padaria".split(),
        "V": "abriu descreveu preparou discutiu mudou reconstruiu estudou apresentou visitou reparou anunciou recebeu pintou mediu planeou".split(),
        "A": "antigo novo pequeno calmo animado famoso local verde estreito público moderno cuidadoso".split(),
        "P": "em perto de atrás de para com depois de antes de sob".split(),
        "R": "ontem rapidamente novamente devagar hoje finalmente recentemente juntos".split(),
        "C": "e mas por isso enquanto porque embora".split(),
    },
    "nl": {
        "D": "de het een deze onze elke hun".split(),
        "N": "raad boerin bibliotheek buurman rivier bedrijf student brug haven seizoen rapport weg dal tuin school begroting markt museum trein dorp arts bos storm concert krant bakkerij".split(),
        "V": "opende beschreef bereidde besprak veranderde herbouwde bestudeerde presenteerde bezocht repareerde kondigde verwelkomde schilderde mat plande".split(),
        "A": "oude nieuwe kleine rustige drukke beroemde lokale groene smalle openbare moderne zorgvuldige".split(),
        "P": "in naast achter voor met na vóór onder".split(),
        "R": "gisteren snel opnieuw langzaam vandaag eindelijk onlangs samen".split(),
        "C": "en maar dus terwijl omdat hoewel".split(),
    },
}
LANGUAGE_WEIGHTS = {"en": 40, "fr": 20, "de": 12, "es": 10, "it": 7, "pt": 6, "nl": 5}


def _clause(rng: random.Random, b: dict[str, list[str]]) -> str:
    c = rng.choice
    words = [c(b["D"]), c(b["A"]), c(b["N"]), c(b["V"]), c(b["D"]), c(b["N"]), c(b["P"]), c(b["D"]), c(b["N"])]
    if rng.random() < 0.5:
        words.append(c(b["R"]))
    return " ".join(words)


def sentence(rng: random.Random, lang: str) -> str:
    b = BANKS[lang]
    text = _clause(rng, b)
    if rng.random() < 0.5:
        text = f"{text}, {rng.choice(b['C'])} {_clause(rng, b)}"
    if rng.random() < 0.2:
        text = f"{text} ({rng.randrange(2, 9999)})"
    return text[0].upper() + text[1:] + "."


def paragraph(rng: random.Random, lang: str) -> str:
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(3, 6)))


def clean_document(rng: random.Random, lang: str) -> str:
    return "\n".join(paragraph(rng, lang) for _ in range(rng.randint(3, 6)))


def near_duplicate(rng: random.Random, text: str, rate: float) -> str:
    words = text.split(" ")
    out: list[str] = []
    for word in words:
        r = rng.random()
        if r < rate / 3:
            continue  # deleted
        if r < 2 * rate / 3:
            out.append(rng.choice(words))  # replaced
            continue
        out.append(word)
        if r < rate:
            out.append(rng.choice(words))  # inserted
    return " ".join(out)


def junk_document(rng: random.Random, kind: int) -> str:
    if kind == 0:
        line = "Cliquez ici pour recevoir notre lettre d’information gratuite !"
        return "\n".join([line] * rng.randint(3, 12))
    if kind == 1:
        return "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * rng.randint(5, 30)
    return "\n".join(rng.choice(["Home", "News", "Sport", "Contact", "Login", "Menu", "Search", "Share"]) for _ in range(rng.randint(8, 30)))


def generate(n_docs: int, seed: int = 0) -> list[dict[str, str]]:
    """``n_docs`` records ``{id, text, planted}``; ``planted`` says what the generator did."""
    rng = random.Random(seed)
    langs = list(LANGUAGE_WEIGHTS)
    weights = list(LANGUAGE_WEIGHTS.values())
    records: list[dict[str, str]] = []
    originals: list[str] = []
    for i in range(n_docs):
        r = rng.random()
        if originals and r < 0.08:
            text = rng.choice(originals)
            if rng.random() < 0.3:
                text = text.upper() if rng.random() < 0.5 else text.replace(" ", "  ")
            planted = "exact_duplicate"
        elif originals and r < 0.18:
            text = near_duplicate(rng, rng.choice(originals), rng.choice([0.01, 0.02, 0.05, 0.1]))
            planted = "near_duplicate"
        elif r < 0.24:
            lang = rng.choices(langs, weights)[0]
            paras = [paragraph(rng, lang) for _ in range(rng.randint(3, 6))]
            repeat = paras[1:] if len(paras) > 2 else paras
            text = "\n".join(paras + repeat)
            planted = "repeated_paragraphs"
        elif r < 0.26:
            text = junk_document(rng, rng.randrange(3))
            planted = "junk"
        else:
            lang = rng.choices(langs, weights)[0]
            text = clean_document(rng, lang)
            originals.append(text)
            planted = "clean"
        records.append({"id": f"demo-{i:07d}", "text": text, "planted": planted})
    return records


def write_demo_corpus(directory: Path, n_docs: int = 20000, seed: int = 0, shards: int = 4, *, overwrite: bool = False) -> list[Path]:
    """Write the corpus under ``directory``: JSONL.gz shards, one Parquet shard, text files.

    A folder that already holds files is refused unless ``overwrite`` (then only the demo's
    own files are replaced: another corpus's files would otherwise mix with it).
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tamis.errors import ConfigError

    if n_docs < 1:
        msg = f"--docs must be at least 1, got {n_docs}"
        raise ConfigError(msg)
    if directory.exists() and not directory.is_dir():
        msg = f"{directory} exists and is not a folder"
        raise ConfigError(msg)
    if directory.exists() and any(directory.iterdir()):
        if not overwrite:
            msg = f"{directory} is not empty: choose an empty or new folder, or pass --overwrite to replace the demo corpus there"
            raise ConfigError(msg)
        import re
        import shutil

        ours = re.compile(r"a-web-\d+\.jsonl\.gz|b-web\.parquet|c-pages")
        foreign = sorted(p.name for p in directory.iterdir() if not ours.fullmatch(p.name))
        if foreign:
            msg = f"--overwrite: {directory} holds files the demo did not write ({', '.join(foreign[:5])}); refusing to mix them with the demo corpus"
            raise ConfigError(msg)
        for old in directory.iterdir():
            if old.is_dir():
                shutil.rmtree(old)
            else:
                old.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    records = generate(n_docs, seed)
    n_text = min(50, len(records) // 20)
    n_parquet = len(records) // (shards + 1)
    jsonl_part = records[: len(records) - n_parquet - n_text]
    parquet_part = records[len(jsonl_part) : len(jsonl_part) + n_parquet]
    text_part = records[len(jsonl_part) + n_parquet :]
    paths: list[Path] = []
    per_shard = max(1, -(-len(jsonl_part) // shards))
    for k in range(shards):
        chunk = jsonl_part[k * per_shard : (k + 1) * per_shard]
        if not chunk:
            continue
        path = directory / f"a-web-{k:02d}.jsonl.gz"
        with gzip.open(path, "wb", compresslevel=1) as fh:
            fh.write(b"".join(orjson.dumps(r) + b"\n" for r in chunk))
        paths.append(path)
    if parquet_part:
        path = directory / "b-web.parquet"
        pq.write_table(pa.Table.from_pylist(parquet_part), path)
        paths.append(path)
    if text_part:
        text_dir = directory / "c-pages"
        text_dir.mkdir(exist_ok=True)
        for record in text_part:
            path = text_dir / f"{record['id']}.txt"
            path.write_text(record["text"], encoding="utf-8")
        paths.append(text_dir)
    return paths
