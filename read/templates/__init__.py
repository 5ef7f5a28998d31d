"""Prompt template pools: typed slots, difficulty d_c(x), curriculum, share cap, leakage filter.

A pool answers one question: *give me n prompts of capability c for this point of the
run*. Three pools implement :class:`TemplatePool`:

- :class:`JsonlPool`: paper-scale template files ``config/templates/<cap>.jsonl``. One
  template per line: a scaffold with typed slots filled from a seeded rng, format
  constraints (which may use slots too) appended to the prompt, and difficulty features.
- :class:`PromptFilePool`: local JSONL files of prompts (benchmark training prompts, say).
- :class:`EmbeddedPool`: the embedded synthetic world (``read.embedded.sample_items`` on
  the ``pool`` split) behind the same interface.

:class:`CapabilityPools` combines one pool per capability.

Difficulty follows the paper (§1.2):
``d_c(x) = mean_{f in F_c} (f(x) - min_Q f) / (max_Q f - min_Q f + eps)``, with min/max
over a reference sample Q_c. Tertile cut points of d_c on Q_c give easy/medium/hard.
Both are stored in a :class:`DifficultyScale` (JSON), so every interval uses the same cuts.

Sampling: the curriculum turns run progress in [0, 1] into an easy/medium/hard mix (it
never changes the capability weights w), and no template may exceed ``cap`` of any
``window`` consecutive items. Finally :class:`LeakageIndex` drops prompts whose
normalised sha256 or any word 13-gram matches an evaluation prompt.

A template line (``config/templates/<cap>.jsonl``)::

    {"id": "math/rate", "capability": "math",
     "scaffold": "A train runs {speed} km/h for {hours} hours. How far does it go?",
     "slots": {"speed": {"type": "int", "min": 20, "max": 120},
               "hours": {"type": "float", "min": 0.5, "max": 6, "decimals": 1}},
     "constraints": ["Give only the number of km."],
     "features": {"steps": 1, "speed": "speed"},
     "answer": null}

Slot types: ``int`` (min, max inclusive), ``float`` (min, max, decimals), ``choice``
(choices), ``str`` (random letters: min_len, max_len, optional alphabet). A feature is a
number, or a slot name (its numeric value, or the character length of a text value).
Every template also gets the features ``words`` (prompt length in words) and
``constraints`` (their count). ``answer`` is an optional format string over the slots
(a gold answer where one is known, e.g. a lookup); else null and only the teacher answers.
"""

from read.templates.curriculum import (
    DEFAULT_SCHEDULE,
    LEVELS,
    CurriculumConfig,
    DifficultyScale,
    curriculum_mix,
    level_counts,
    select,
)
from read.templates.leakage import LeakageIndex, filter_leaks, ngrams, normalise_prompt
from read.templates.pools import (
    CapabilityPools,
    CurriculumPool,
    EmbeddedPool,
    JsonlPool,
    PromptFilePool,
    TemplatePool,
    make_pool,
    read_prompt_file,
)
from read.templates.spec import SLOT_TYPES, PoolItem, Slot, Template, load_templates, parse_template

__all__ = [
    "DEFAULT_SCHEDULE", "LEVELS", "SLOT_TYPES", "CapabilityPools", "CurriculumConfig", "CurriculumPool",
    "DifficultyScale", "EmbeddedPool", "JsonlPool", "LeakageIndex", "PoolItem", "PromptFilePool", "Slot", "Template",
    "TemplatePool", "curriculum_mix", "filter_leaks", "level_counts", "load_templates", "make_pool", "ngrams",
    "normalise_prompt", "parse_template", "read_prompt_file", "select",
]
