"""Each task card's text embedded by the frozen encoder (rule card_embeddings)."""

from read.io import write_json
from read.runtime import job
from read.steps.identifier import card_embeddings
from read.tasks import TaskCard

with job(snakemake, model=True):
    i = snakemake.input
    cards = {name: TaskCard.from_mapping(name, card, f"task {name}") for name, card in snakemake.params.cards.items()}
    write_json(snakemake.output[0], card_embeddings(cards, encoder=i.encoder, tokenizer=i.tokenizer))
