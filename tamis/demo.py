"""The demo corpus: generated text, in seven languages, with the dirt tamis exists to remove.

Nothing here is copied from anywhere: sentences are assembled at random from small
hand-written word banks (subject, verb, object, complement) per language, so the text has
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

BANKS: dict[str, dict[str, list[str]]] = {
    "en": {
        "s": ["The city council", "A local farmer", "The new library", "Our neighbour", "The river", "The small company", "A group of students", "The old bridge"],
        "v": ["has opened", "described", "is preparing", "will discuss", "wanted to change", "has rebuilt", "carefully studied", "presented"],
        "o": ["a plan for the harbour", "the results of the season", "a report on the roads", "the history of the valley", "a garden behind the school", "the budget for next year"],
        "c": ["after a long debate", "with the help of volunteers", "in the spring", "for the whole town", "before the winter", "despite the rain"],
        "j": ["and", "but", "so", "while", "because"],
    },
    "fr": {
        "s": ["Le conseil municipal", "Une agricultrice du village", "La nouvelle médiathèque", "Notre voisin", "La rivière", "La petite entreprise", "Un groupe d’étudiants", "Le vieux pont"],
        "v": ["a présenté", "a décrit", "prépare", "va discuter", "voulait changer", "a reconstruit", "a étudié avec soin", "a ouvert"],
        "o": ["un projet pour le port", "les résultats de la saison", "un rapport sur les routes", "l’histoire de la vallée", "un jardin derrière l’école", "le budget de l’année prochaine"],
        "c": ["après un long débat", "avec l’aide des bénévoles", "au printemps", "pour toute la ville", "avant l’hiver", "malgré la pluie"],
        "j": ["et", "mais", "donc", "alors que", "parce que"],
    },
    "de": {
        "s": ["Der Stadtrat", "Eine Bäuerin aus dem Dorf", "Die neue Bibliothek", "Unser Nachbar", "Der Fluss", "Die kleine Firma", "Eine Gruppe von Studenten", "Die alte Brücke"],
        "v": ["hat vorgestellt", "beschrieb", "bereitet vor", "wird besprechen", "wollte ändern", "hat wieder aufgebaut", "untersuchte genau", "hat eröffnet"],
        "o": ["einen Plan für den Hafen", "die Ergebnisse der Saison", "einen Bericht über die Straßen", "die Geschichte des Tals", "einen Garten hinter der Schule", "den Haushalt für das nächste Jahr"],
        "c": ["nach einer langen Debatte", "mit der Hilfe von Freiwilligen", "im Frühling", "für die ganze Stadt", "vor dem Winter", "trotz des Regens"],
        "j": ["und", "aber", "also", "während", "weil"],
    },
    "es": {
        "s": ["El ayuntamiento", "Una agricultora del pueblo", "La nueva biblioteca", "Nuestro vecino", "El río", "La pequeña empresa", "Un grupo de estudiantes", "El viejo puente"],
        "v": ["ha presentado", "describió", "está preparando", "va a discutir", "quería cambiar", "ha reconstruido", "estudió con cuidado", "ha abierto"],
        "o": ["un plan para el puerto", "los resultados de la temporada", "un informe sobre las carreteras", "la historia del valle", "un jardín detrás de la escuela", "el presupuesto del año próximo"],
        "c": ["después de un largo debate", "con la ayuda de voluntarios", "en primavera", "para toda la ciudad", "antes del invierno", "a pesar de la lluvia"],
        "j": ["y", "pero", "así que", "mientras", "porque"],
    },
    "it": {
        "s": ["Il consiglio comunale", "Una contadina del paese", "La nuova biblioteca", "Il nostro vicino", "Il fiume", "La piccola azienda", "Un gruppo di studenti", "Il vecchio ponte"],
        "v": ["ha presentato", "ha descritto", "sta preparando", "discuterà", "voleva cambiare", "ha ricostruito", "ha studiato con cura", "ha aperto"],
        "o": ["un piano per il porto", "i risultati della stagione", "una relazione sulle strade", "la storia della valle", "un giardino dietro la scuola", "il bilancio del prossimo anno"],
        "c": ["dopo un lungo dibattito", "con l’aiuto dei volontari", "in primavera", "per tutta la città", "prima dell’inverno", "nonostante la pioggia"],
        "j": ["e", "ma", "quindi", "mentre", "perché"],
    },
    "pt": {
        "s": ["A câmara municipal", "Uma agricultora da aldeia", "A nova biblioteca", "O nosso vizinho", "O rio", "A pequena empresa", "Um grupo de estudantes", "A velha ponte"],
        "v": ["apresentou", "descreveu", "está a preparar", "vai discutir", "queria mudar", "reconstruiu", "estudou com cuidado", "abriu"],
        "o": ["um plano para o porto", "os resultados da época", "um relatório sobre as estradas", "a história do vale", "um jardim atrás da escola", "o orçamento do próximo ano"],
        "c": ["depois de um longo debate", "com a ajuda de voluntários", "na primavera", "para toda a cidade", "antes do inverno", "apesar da chuva"],
        "j": ["e", "mas", "por isso", "enquanto", "porque"],
    },
    "nl": {
        "s": ["De gemeenteraad", "Een boerin uit het dorp", "De nieuwe bibliotheek", "Onze buurman", "De rivier", "Het kleine bedrijf", "Een groep studenten", "De oude brug"],
        "v": ["heeft voorgesteld", "beschreef", "bereidt voor", "zal bespreken", "wilde veranderen", "heeft herbouwd", "bestudeerde zorgvuldig", "heeft geopend"],
        "o": ["een plan voor de haven", "de resultaten van het seizoen", "een rapport over de wegen", "de geschiedenis van het dal", "een tuin achter de school", "de begroting voor volgend jaar"],
        "c": ["na een lang debat", "met de hulp van vrijwilligers", "in de lente", "voor de hele stad", "voor de winter", "ondanks de regen"],
        "j": ["en", "maar", "dus", "terwijl", "omdat"],
    },
}
LANGUAGE_WEIGHTS = {"en": 40, "fr": 20, "de": 12, "es": 10, "it": 7, "pt": 6, "nl": 5}


def sentence(rng: random.Random, lang: str) -> str:
    b = BANKS[lang]
    first = f"{rng.choice(b['s'])} {rng.choice(b['v'])} {rng.choice(b['o'])} {rng.choice(b['c'])}"
    if rng.random() < 0.5:
        second = f"{rng.choice(b['s']).lower()} {rng.choice(b['v'])} {rng.choice(b['o'])}"
        first = f"{first}, {rng.choice(b['j'])} {second}"
    number = rng.randrange(2, 9999)
    return f"{first} ({number})." if rng.random() < 0.3 else f"{first}."


def paragraph(rng: random.Random, lang: str) -> str:
    return " ".join(sentence(rng, lang) for _ in range(rng.randint(3, 6)))


def clean_document(rng: random.Random, lang: str) -> str:
    return "\n".join(paragraph(rng, lang) for _ in range(rng.randint(3, 8)))


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


def write_demo_corpus(directory: Path, n_docs: int = 20000, seed: int = 0, shards: int = 4) -> list[Path]:
    """Write the corpus under ``directory``: JSONL.gz shards, one Parquet shard, text files."""
    import pyarrow as pa
    import pyarrow.parquet as pq

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
