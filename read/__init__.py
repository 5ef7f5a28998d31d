"""read-distill: ReAD, reinforcement-guided budgeted capability distillation.

The library never imports Snakemake; workflow rules are thin adapters over it. Heavy
libraries (torch, transformers, peft) are imported inside the functions that need them,
so cheap jobs (allocate, update, aggregate) start in milliseconds.
"""

__version__ = "0.1.0"
