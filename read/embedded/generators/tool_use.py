"""tool_use: turn a request into one function call with named arguments."""

from __future__ import annotations

import random

from read.embedded.generators.base import Item, Nest, make_item, span
from read.embedded.spec import SPEC
from read.embedded.values import CURRENCIES, DAYS, WORDS, entities, facts, names, popular_rank

CAP = "tool_use"
# tool -> (phrasings, argument specs (name, value type, kind)); kind picks the value pool
TOOLS = {
    "get_weather": (("Use a tool: what is the weather in {city}?", "Call a tool to get the weather in {city}.",
                     "Check the weather in {city} with a tool.",
                     "Get the weather for {city} using a tool."), (("city", "word", "city"),)),
    "get_time": (("Use a tool: what time is it in {city}?", "Call a tool to get the time in {city}.",
                  "Check the time in {city} with a tool.",
                  "Get the local time in {city} using a tool."), (("city", "word", "city"),)),
    "call": (("Use a tool: call {name}.", "Call a tool to phone {name}.", "Phone {name} with a tool.", "Ring {name} using a tool."),
             (("name", "word", "name"),)),
    "lookup": (("Use a tool: look up {country}.", "Call a tool to search for {country}.", "Search for {country} with a tool.",
                "Find {country} using a tool."),
               (("country", "word", "country"),)),
    "set_timer": (("Use a tool: set a timer for {minutes} minutes.", "Call a tool to start a {minutes} minute timer.",
                   "Start a timer of {minutes} minutes with a tool.",
                   "Time {minutes} minutes using a tool."), (("minutes", "number", "minutes"),)),
    "convert": (("Use a tool: convert {amount} dollars to {to}.", "Call a tool to change {amount} dollars into {to}.",
                 "How many {to} is {amount} dollars? Use a tool."), (("amount", "number", "amount"), ("to", "code", "currency"))),
    "set_alarm": (("Use a tool: set an alarm for {hour} hours {minute} minutes.", "Call a tool to wake me at {hour} hours {minute} minutes.",
                   "Set an alarm at {hour} hours {minute} minutes with a tool."), (("hour", "number", "hour"), ("minute", "number", "minute"))),
    "send_message": (("Use a tool: send {text} to {to}.", "Call a tool to message {to} the word {text}.",
                      "Text {to} the word {text} with a tool."), (("to", "word", "name"), ("text", "word", "word"))),
    "book_trip": (("Use a tool: book a trip from {origin} to {dest} on {day}.", "Call a tool to book travel from {origin} to {dest} on {day}.",
                   "Book a {day} trip from {origin} to {dest} with a tool."),
                  (("origin", "word", "city"), ("dest", "word", "city"), ("day", "word", "day"))),
    "transfer": (("Use a tool: send {amount} {currency} to {to}.", "Call a tool to transfer {amount} {currency} to {to}.",
                  "Pay {to} {amount} {currency} with a tool."),
                 (("amount", "number", "amount"), ("to", "word", "name"), ("currency", "code", "currency"))),
}


def _value(r: random.Random, kind: str, tier: str) -> str:
    if kind == "city":  # countries and capitals come up by popularity, as in general_knowledge
        return facts()[entities()[popular_rank(r)]]["capital"]
    if kind == "country":
        return entities()[popular_rank(r)]
    if kind == "name":
        return r.choice(names())
    if kind == "word":
        return r.choice(WORDS)
    if kind == "day":
        return r.choice(DAYS)
    if kind == "currency":
        return r.choice(list(CURRENCIES))
    return str(span(r, SPEC[CAP].tiers[tier][kind]))


def generate(r: random.Random, tier: str, nest: Nest | None) -> Item | None:
    tools = SPEC[CAP].tiers[tier]["tools"]
    if nest is not None:  # only tools with a slot the nest can fill
        tools = [t for t in tools if any(vt in ("number", "word") and nest.accepts(vt) for _, vt, _ in TOOLS[t][1])]
        if not tools:
            return None
    tool = r.choice(tools)
    phrases, args = TOOLS[tool]
    values = {name: _value(r, kind, tier) for name, _, kind in args}
    if tool == "book_trip":
        while values["dest"] == values["origin"]:
            values["dest"] = _value(r, "city", tier)
    texts = dict(values)
    if nest is not None:
        slots = [name for name, vt, _ in args if vt in ("number", "word") and nest.accepts(vt)]
        slot = r.choice(slots)
        vt = next(vt for name, vt, _ in args if name == slot)
        texts[slot] = nest.fill(vt, values[slot])
        if texts[slot] is None:
            return None
    call_args = []
    for name, vt, kind in args:
        v = CURRENCIES[values[name]] if kind == "currency" else values[name]
        call_args.append(f"{name}={v}" if vt == "number" else f'{name}="{v}"')
    answer = f"{tool}({', '.join(call_args)})"
    digits = sum(len(values[n]) for n, vt, _ in args if vt == "number")
    rationale = f"tool {tool}; " + ", ".join(a.replace('"', "") for a in call_args)
    feats = {"n_args": len(args), "digits": digits}
    return make_item(CAP, r.choice(phrases).format(**texts), answer, rationale, f"tool/{tool}", feats, nest, tier)


def produce(r: random.Random, value_type: str, value: str | None) -> Item | None:
    return generate(r, "easy", None) if value_type == "text" else None
