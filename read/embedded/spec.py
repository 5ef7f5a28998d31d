"""The embedded world's structure, stated once and applied to every capability alike.

Eight capabilities each produce short (prompt, answer) items with an exact-match answer.
Every range a generator uses is read from :data:`SPEC` below, and the shared constants
(nesting rate, tier mix, split fractions, surface prefixes) are the same for all of them.
Nothing here is shaped for any allocation method.

**Difficulty.** Every capability has three tiers (easy, medium, hard), drawn with the same
probabilities :data:`TIER_PROBS`. A tier fixes the ranges of the capability's difficulty
knobs: operand digits and operations (math), number magnitude (multilingual), entity
popularity band and hops (general_knowledge), people and stated comparisons (reasoning),
list length and operations (code), call arguments (tool_use), key-value pairs
(long_context), words and stacked constraints (steerability). Each item records its raw
features, its tier as ``level`` (0, 1, 2) and ``nested`` (0 or 1); every feature is
oriented so that larger means harder, so a min-max score over them ranks items sensibly.
The tiers are sized for the embedded teacher (a 0.6M-parameter Llama pretrained for a few
thousand steps on 2 CPU cores) by one rule for every capability: easy and medium use what
it learns in that time, hard adds what it barely learns (reversing or sorting lists,
stacked constraints, carries, two-step chains, many pairs), at a tenth of the items. The
per-tier accuracies behind this are in docs/measurements/ (teacher: easy ~0.8, medium
~0.5, hard ~0.15).

**Learning speed.** What a tiny model learns fast is the same in every capability:
copying a span from the prompt, a fixed output format, and a small lookup table that is
seen often (1-digit arithmetic facts, number words to 20, a 58-word dictionary, the 30
most popular countries). What it learns slowly is also the same everywhere: carrying
across digits, retrieving a value by key among many pairs, chaining several stated
comparisons, composing two transformations, compound number words, and facts seen rarely.
Easy tiers use only the fast kind; each harder tier adds slow kinds. Capabilities differ
in how much of their mass is slow, not in special rules: tool_use and steerability are
mostly copying (fast), math and long_context are mostly carrying and retrieval (slow).

**Transfer and interference.** Capabilities share vocabularies and sub-skills, so related
ones transfer, and, because they compete for the same tokens and frames, interfere:

- number words (English, Spanish, French) are multilingual's content and, at rate
  :data:`WORD_OPERAND_RATE`, math's operands;
- digits and short integer lists are shared by math, code, long_context (values, box
  numbers), reasoning (stated ages) and tool_use (amounts, minutes);
- person names are reasoning's people, long_context's keys, general_knowledge's leaders
  and tool_use's contacts;
- cities are general_knowledge's capitals and tool_use's arguments; countries are
  general_knowledge's subjects and tool_use's lookups;
- English words are steerability's material, long_context's values and (with their
  Spanish and French forms) multilingual's dictionary; days are multilingual words and
  tool_use arguments;
- question frames overlap ("What is ...?", "Give ...", quoted words), so training one
  capability alone pulls the shared frames towards its own answers.

**Nesting.** Every capability has the same rate :data:`NEST_RATE` of nested items: one
input slot of the outer item, of a value type it consumes (:data:`VALUE_TYPES`), is
written ``[<inner prompt>]``, where the inner prompt is an easy, unnested, unprefixed
item of another capability drawn uniformly among those that can produce the slot's
value. Its answer is the item's ``scratch``, so the response reads
`` <inner answer> => <outer answer>``. Composite tasks are fixed (outer, inner) pairs of
this same form, so they are reachable by distillation without favouring any pair.

**Splits.** A prompt's split is a function of the SHA-256 of its normalised text
(:data:`SPLIT_FRACTIONS`), so splits never share a prompt, and each split also draws from
its own random stream. Facts, words and numbers recur across splits in other phrasings:
what is held out is the prompt, as for a real model's paraphrased test questions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

# ---- shared constants (one value for every capability) -----------------------------
NEST_RATE = 0.25
"""Share of items, in every capability, whose one slot is filled by another capability."""
TIERS: tuple[str, ...] = ("easy", "medium", "hard")
TIER_PROBS: tuple[float, ...] = (0.6, 0.3, 0.1)
"""Probability of drawing each tier; the same for every capability."""
TASK_TIER_PROBS: tuple[float, ...] = TIER_PROBS
"""Tier mix of a composite task's outer item (the inner one is always easy); the same for every task."""
SPLIT_FRACTIONS = MappingProxyType(
    {"pretrain": 0.55, "pool": 0.25, "probe": 0.05, "dev": 0.05, "test": 0.10}
)
WORLD_SEED = 20260517
"""Fixes the world's content (names, entities, facts); experiment seeds only change sampling."""
PREFIXES: tuple[str, ...] = ("Quick question: ", "Please answer: ", "Question: ", "Now: ", "Tell me: ",
                             "Help me out: ", "One more: ", "Next: ")
PREFIX_RATE = 0.5
"""Share of outer prompts (every capability) opened by one of PREFIXES: surface variety."""
WORD_OPERAND_RATE = 0.2
"""Share of math operands written as a quoted number word (English, Spanish or French)."""
LANGUAGES: tuple[str, ...] = ("English", "Spanish", "French")
N_ENTITIES = 200
"""general_knowledge countries; 4 attributes each gives 800 facts."""
N_NAMES = 300
GK_RANKS = (30, 100)
"""Country popularity bands: ranks below 30 are general_knowledge's easy tier, 30..99
medium, 100+ rare (hard, with two-hop questions). Bands are drawn with TIER_PROBS, so a
popular country comes up ~20x as often as a rare one, in every capability that names one."""

# ---- value types ---------------------------------------------------------------------
VALUE_TYPES: tuple[str, ...] = ("number", "word", "text")
"""number: a non-negative integer in digits; word: one lowercase word (a name, city,
country, English word); text: any answer at all (only whole-answer formatting consumes it)."""


@dataclass(frozen=True)
class CapabilitySpec:
    """One capability's row of the world table.

    consumes: value types of the slots an inner item may fill; produces: value types its
    answers can be steered to (so it can serve as an inner item); features: raw difficulty
    features on every item; tiers: tier -> knob -> value (ranges are inclusive (lo, hi));
    templates: template ids; slow: what makes it slow to learn.
    """

    consumes: tuple[str, ...]
    produces: tuple[str, ...]
    features: tuple[str, ...]
    tiers: dict = field(hash=False)
    templates: tuple[str, ...]
    slow: str


SPEC: dict[str, CapabilitySpec] = {
    "general_knowledge": CapabilitySpec(
        consumes=("word",),
        produces=("number", "word", "text"),
        features=("rarity", "hops", "value_bits", "nested", "level"),
        tiers={
            "easy": {"rank": (0, GK_RANKS[0] - 1), "hops": (1, 1)},
            "medium": {"rank": (GK_RANKS[0], GK_RANKS[1] - 1), "hops": (1, 1)},
            "hard": {"rank": (GK_RANKS[1], N_ENTITIES - 1), "hops": (1, 2)},
        },
        templates=("gk/fact", "gk/two_hop"),
        slow="rare entities are seen rarely; two hops need an inverse lookup",
    ),
    "steerability": CapabilitySpec(
        consumes=("text",),
        produces=("number", "word", "text"),
        features=("n_words", "n_constraints", "nested", "level"),
        tiers={
            "easy": {"n_words": (1, 2), "n_constraints": (1, 1), "ops": ("json", "quote", "brackets", "repeat", "first", "last"),
                     "then": ()},
            "medium": {"n_words": (2, 3), "n_constraints": (1, 1),
                       "ops": ("json", "quote", "brackets", "repeat", "first", "last", "count"), "then": ()},
            "hard": {"n_words": (2, 4), "n_constraints": (1, 2), "ops": ("reverse", "join", "repeat"),
                     "then": ("json", "quote", "brackets")},
        },
        templates=("steer/json", "steer/quote", "steer/brackets", "steer/repeat", "steer/first", "steer/last",
                   "steer/reverse", "steer/join", "steer/count", "steer/combo"),
        slow="reordering words and stacking two constraints",
    ),
    "reasoning": CapabilitySpec(
        consumes=("number",),
        produces=("word", "text"),
        features=("n_people", "hops", "digits", "nested", "level"),
        tiers={
            "easy": {"n_people": (2, 2), "age": (1, 9)},
            "medium": {"n_people": (3, 3), "age": (1, 9)},
            "hard": {"n_people": (4, 4), "age": (10, 99)},
        },
        templates=("reas/compare", "reas/chain"),
        slow="chains of several comparisons stated out of order",
    ),
    "math": CapabilitySpec(
        consumes=("number",),
        produces=("number", "text"),
        features=("digits", "n_ops", "carries", "word_operands", "nested", "level"),
        tiers={
            "easy": {"a_digits": (1, 1), "b_digits": (1, 1), "n_ops": (1, 1), "ops": ("+", "-", "*"), "max_carries": 0},
            "medium": {"a_digits": (2, 2), "b_digits": (1, 1), "n_ops": (1, 1), "ops": ("+", "-"), "max_carries": 0},
            "hard": {"a_digits": (2, 2), "b_digits": (2, 2), "n_ops": (1, 2), "ops": ("+", "-"), "max_carries": 2},
        },
        templates=("math/add", "math/sub", "math/mul", "math/chain"),
        slow="carries and borrows across digits; two operations in a row",
    ),
    "code": CapabilitySpec(
        consumes=("number",),
        produces=("number", "text"),
        features=("list_len", "n_stmts", "digits", "nested", "level"),
        tiers={
            "easy": {"list_len": (2, 3), "digits": (1, 1), "n_stmts": (1, 1), "ops": ("max", "min", "len", "index")},
            "medium": {"list_len": (3, 4), "digits": (1, 1), "n_stmts": (1, 1), "ops": ("max", "min", "len", "index", "sorted")},
            "hard": {"list_len": (4, 5), "digits": (1, 2), "n_stmts": (1, 2), "ops": ("max", "min", "sorted", "reversed", "append")},
        },
        templates=("code/max", "code/min", "code/len", "code/index", "code/sorted", "code/reversed", "code/append"),
        slow="sorting long lists and tracking a variable across statements",
    ),
    "tool_use": CapabilitySpec(
        consumes=("number", "word"),
        produces=("text",),
        features=("n_args", "digits", "nested", "level"),
        tiers={
            "easy": {"n_args": (1, 1), "tools": ("get_weather", "get_time", "call", "lookup", "set_timer"),
                     "minutes": (1, 60)},
            "medium": {"n_args": (2, 2), "tools": ("convert", "set_alarm", "send_message"),
                       "amount": (1, 99), "hour": (0, 23), "minute": (0, 59)},
            "hard": {"n_args": (3, 3), "tools": ("book_trip", "transfer"), "amount": (100, 999)},
        },
        templates=("tool/get_weather", "tool/get_time", "tool/call", "tool/lookup", "tool/set_timer", "tool/convert", "tool/set_alarm",
                   "tool/send_message", "tool/book_trip", "tool/transfer"),
        slow="mapping several arguments to their names and units",
    ),
    "long_context": CapabilitySpec(
        consumes=("number", "word"),
        produces=("number", "word", "text"),
        features=("n_pairs", "distance", "nested", "level"),
        tiers={
            "easy": {"n_pairs": (1, 2)},
            "medium": {"n_pairs": (3, 4)},
            "hard": {"n_pairs": (6, 8)},
        },
        templates=("lc/name_num", "lc/box_word", "lc/name_tag"),
        slow="retrieving a value by its key among many pairs (an induction skill)",
    ),
    "multilingual": CapabilitySpec(
        consumes=("number",),
        produces=("number", "word", "text"),
        features=("digits", "n_words", "nested", "level"),
        tiers={
            "easy": {"value": (0, 20), "vocab_share": 0.5},
            "medium": {"value": (21, 99), "vocab_share": 0.0},
            "hard": {"value": (100, 999), "vocab_share": 0.0},
        },
        templates=("multi/to_words", "multi/translate", "multi/to_digits", "multi/word"),
        slow="compound numbers follow language-specific rules (French 70-99, Spanish hundreds)",
    ),
}
