"""Hand-written documents for the quality-filter tests (written for tamis, in English and French)."""

from __future__ import annotations

from tamis.document import Document
from tamis.steps.base import Step, TaskContext

FRENCH_PARAGRAPHS = [
    "La ligne ferroviaire entre Clermont-Ferrand et Aurillac a rouvert lundi matin après dix-huit mois de travaux. "
    "Les premiers voyageurs ont salué la ponctualité du train régional, parti à l’heure malgré le brouillard qui "
    "recouvrait encore la vallée.",
    "Le chantier, financé par la région et l’État, a coûté près de 120 millions d’euros. Il a permis de remplacer les "
    "rails sur quarante kilomètres, de consolider deux viaducs et de moderniser la signalisation d’une dizaine de gares.",
    "Selon le directeur régional de la compagnie, la vitesse moyenne des trains passera de 70 à 95 kilomètres par heure "
    "d’ici l’été. Le trajet complet durera ainsi moins de deux heures, contre près de trois avant la fermeture.",
    "Les élus locaux espèrent que cette amélioration attirera de nouveaux habitants dans le Cantal. Plusieurs communes "
    "ont déjà annoncé la création de parkings près des gares et l’ouverture de lignes de bus en correspondance.",
    "Des associations d’usagers restent pourtant prudentes. Elles rappellent que la ligne avait connu de nombreuses "
    "suppressions de trains avant les travaux et demandent que le nombre de rames soit augmenté avant l’hiver prochain.",
]

# A news article: five distinct paragraphs, one per line.
FRENCH_ARTICLE = "\n".join(FRENCH_PARAGRAPHS) + "\n"

# The same page as a scraper returns it when the template renders the body twice:
# paragraphs 2-5 come again after paragraph 5 (9 lines, 4 of them repeats).
FRENCH_ARTICLE_REPEATED = "\n".join(FRENCH_PARAGRAPHS + FRENCH_PARAGRAPHS[1:]) + "\n"

ENGLISH_PARAGRAPHS = [
    "The council of a small harbour town voted on Tuesday to rebuild the old stone pier that was damaged in the winter "
    "storms. Fishermen had asked for the repair for two years, and the vote was close.",
    "The work will take most of the summer and will cost about four million pounds. Part of the money comes from a "
    "national fund for coastal towns, and the rest will be borrowed over twenty years.",
    "Local shop owners said that they were glad to see the decision, because visitors like to walk along the pier in the "
    "evening. Some of them worried about the noise of the works during the tourist season.",
    "The mayor promised that the boats would still be able to land their catch while the builders are on site. A "
    "temporary landing stage will be placed at the end of the beach with a path to the market.",
]
ENGLISH_ARTICLE = "\n".join(ENGLISH_PARAGRAPHS) + "\n"


def run_step(step: Step, texts: list[str], language: str | None = None) -> tuple[list[Document], TaskContext]:
    """Run one step over documents made from ``texts``; returns (kept documents, context)."""
    step.setup()
    metadata = {} if language is None else {"language": language}
    docs = [Document(id=f"d{i}", text=text, metadata=dict(metadata)) for i, text in enumerate(texts)]
    ctx = TaskContext(0)
    kept = list(step.run(iter(docs), ctx))
    return kept, ctx


def reasons(ctx: TaskContext) -> list[str]:
    return [record["reason"] for record in ctx.rejected_records]
