"""read.lm: encoding, batching, losses, training, generation and scoring on a tiny random Llama."""

import copy
import math
import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

torch = pytest.importorskip("torch")

from read import lm  # noqa: E402
from read.embedded.models import ModelSpec, build_model  # noqa: E402
from read.embedded.tokenizer import load_tokenizer, train_tokenizer  # noqa: E402
from read.errors import ReadError  # noqa: E402
from read.rng import rng_for  # noqa: E402

PROMPTS = [f"Q: What is {a} plus {b}?\nA:" for a, b in [(1, 2), (13, 4), (7, 70), (22, 9), (5, 5), (31, 8)]]
ANSWERS = [" 3", " 17", " 77", " 31", " 10", " 39"]


@pytest.fixture(scope="module", autouse=True)
def one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see conftest)."""


@pytest.fixture(scope="module")
def tok(tmp_path_factory):
    corpus = [p + a for p, a in zip(PROMPTS, ANSWERS)] * 20 + ['get_weather(city="Paris") ¿Qué?']
    return load_tokenizer(train_tokenizer(corpus, 300, tmp_path_factory.mktemp("tok") / "tok"))


def tiny(tok, seed=0):
    return build_model(ModelSpec(layers=1, hidden=32, heads=2, max_position=128), len(tok), seed)


def test_encode_pairs_counts_are_exact_and_prompt_is_masked(tok):
    enc = lm.encode_pairs(tok, PROMPTS[:2], ANSWERS[:2], max_len=64)
    for e, p, a in zip(enc, PROMPTS, ANSWERS):
        n_p = len(tok(p, add_special_tokens=False)["input_ids"]) + 1  # + BOS
        n_r = len(tok(a, add_special_tokens=False)["input_ids"]) + 1  # + EOS
        assert (e.n_prompt_tokens, e.n_response_tokens) == (n_p, n_r)
        assert len(e.input_ids) == e.n_tokens == n_p + n_r
        assert e.input_ids[0] == tok.bos_token_id and e.input_ids[-1] == tok.eos_token_id
        assert all(x == lm.IGNORE for x in e.labels[:n_p]) and list(e.labels[n_p:]) == list(e.input_ids[n_p:])
        assert not e.truncated


def test_prompt_ids_are_the_tokenizers_own(tok):
    """encode_prompts calls the Rust backend directly: the ids must be what __call__ gives."""
    texts = PROMPTS + ANSWERS + ["", "  two  spaces ", "ünïcödé ¿Qué? 日本", f"x{tok.eos_token}y", "\n\nA:\t7"]
    expected = [[tok.bos_token_id] + list(ids) for ids in tok(texts, add_special_tokens=False)["input_ids"]]
    assert lm.encode_prompts(tok, texts) == expected


def test_overlong_example_is_an_error_unless_truncation_is_asked(tok):
    with pytest.raises(ReadError, match="max_len"):
        lm.encode_pairs(tok, PROMPTS[:1], [" 1 2 3 4 5 6 7 8 9"], max_len=16)
    (e,) = lm.encode_pairs(tok, PROMPTS[:1], [" 1 2 3 4 5 6 7 8 9"], max_len=16, truncate=True)
    assert e.truncated and len(e.input_ids) == 16


def test_batches_cover_every_index_once_and_depend_only_on_the_rng():
    enc = [lm.Encoded(tuple(range(n)), tuple(range(n)), 1, n - 1) for n in range(2, 40)]
    a = lm.batches(enc, 5, rng_for(0, "b"))
    assert sorted(i for b in a for i in b) == list(range(len(enc)))
    assert a == lm.batches(enc, 5, rng_for(0, "b")) != lm.batches(enc, 5, rng_for(1, "b"))


def test_collate_right_pads_and_masks_padding(tok):
    enc = lm.encode_pairs(tok, PROMPTS[:2], [" 3", " 1 2 3 4"], max_len=64)
    t = lm.collate(enc, pad_id=0)
    short = int(np.argmin([len(e.input_ids) for e in enc]))
    n = len(enc[short].input_ids)
    assert t["input_ids"].shape == t["labels"].shape == t["attention_mask"].shape
    assert t["attention_mask"][short, n:].sum() == 0 and (t["labels"][short, n:] == lm.IGNORE).all()


def test_sft_loss_matches_manual_shifted_cross_entropy():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 5, 7, generator=g)
    labels = torch.tensor([[-100, -100, 3, 4, -100], [-100, 1, 2, 6, 0]])
    terms = [-torch.log_softmax(logits[b, t - 1], -1)[labels[b, t]] for b in range(2) for t in range(1, 5) if labels[b, t] >= 0]
    assert torch.allclose(lm.sft_loss(logits, labels), torch.stack(terms).mean())


def test_kd_loss_is_zero_for_matching_distributions_and_positive_otherwise():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 6, 11, generator=g)
    ids = torch.stack([torch.randperm(11, generator=g)[:3] for _ in range(12)]).view(2, 6, 3)  # distinct ids per token
    mask = torch.ones(2, 6, dtype=torch.bool)
    # teacher for token t = the student's own prediction at t-1 (the shift), restricted to ids
    teacher = torch.zeros(2, 6, 3)
    teacher[:, 1:] = torch.log_softmax(torch.gather(logits[:, :-1], -1, ids[:, 1:]), -1)
    assert lm.topk_kd_loss(logits, ids, teacher, mask).abs() < 1e-6
    # renormalisation: a constant shift of teacher logprobs (missing tail mass) changes nothing
    assert lm.topk_kd_loss(logits, ids, teacher - 2.0, mask).abs() < 1e-6
    assert lm.topk_kd_loss(logits, ids, teacher.flip(-1), mask) > 1e-3
    assert lm.topk_kd_loss(logits, ids, teacher.flip(-1), torch.zeros_like(mask)) == 0  # no KD tokens: 0, not nan


def test_topk_kl_on_two_tokens_is_the_closed_form():
    # student logits (0, ln 3) on ids (0, 1): q = (1/4, 3/4); teacher p = (1/2, 1/2)
    # KL = 1/2 ln(1/2 / 1/4) + 1/2 ln(1/2 / 3/4) = 1/2 ln(4/3)
    logits = torch.tensor([[0.0, math.log(3.0), 5.0]])  # id 2 is outside the top-k: it must not count
    ids, teacher = torch.tensor([[0, 1]]), torch.log(torch.tensor([[0.5, 0.5]]))
    assert lm.topk_kl(logits, ids, teacher).item() == pytest.approx(0.5 * math.log(4 / 3), abs=1e-6)
    # T = 2 softens both sides: q ∝ (1, √3), p uniform; topk_kd_loss scales the KL by T²
    q = torch.tensor([1.0, math.sqrt(3.0)]) / (1 + math.sqrt(3.0))
    kl_t2 = float((0.5 * torch.log(0.5 / q)).sum())
    assert lm.topk_kl(logits, ids, teacher, temperature=2.0).item() == pytest.approx(kl_t2, abs=1e-6)
    full = torch.stack([logits[0], torch.zeros(3)])[None]  # (1, 2, 3): position 0 predicts token 1, 1 nothing
    assert lm.topk_kd_loss(full, ids.expand(2, 2)[None], teacher.expand(2, 2)[None], torch.tensor([[False, True]]),
                           temperature=2.0).item() == pytest.approx(4 * kl_t2, abs=1e-6)


@pytest.mark.parametrize("lora", [False, True])
def test_target_logits_equal_the_full_forward_at_target_positions(tok, lora):
    # train() and response_loglik() project only target positions onto the vocabulary;
    # this guards that the shortcut is the same function as model(...).logits, peft included.
    model = tiny(tok)
    if lora:
        from peft import LoraConfig, get_peft_model

        model = get_peft_model(model, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    t = lm.collate(lm.encode_pairs(tok, PROMPTS, ANSWERS, max_len=64), pad_id=0)
    select = t["labels"][:, 1:] != lm.IGNORE
    full = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).logits[:, :-1][select]
    fast = lm.target_logits(model, t["input_ids"], t["attention_mask"], select)
    assert fast.shape == (int(select.sum()), len(tok))
    assert torch.allclose(fast, full, atol=1e-5)
    assert torch.allclose(lm.cross_entropy(fast, t["labels"][:, 1:][select]), lm.sft_loss(
        model(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).logits, t["labels"]), atol=1e-6)


def test_train_lowers_sft_loss_and_is_deterministic(tok):
    enc = lm.encode_pairs(tok, PROMPTS, ANSWERS, max_len=64)
    cfg = lm.TrainConfig(lr=1e-2, batch_size=3, max_steps=30, warmup_steps=2)
    reports, logits = [], []
    for _ in range(2):
        model = tiny(tok)
        reports.append(lm.train(model, enc, cfg, seed=3, progress=False))
        logits.append(model(torch.tensor([enc[0].input_ids])).logits)
    r = reports[0]
    assert r.steps == 30 and r.sequences == 90
    assert np.mean(r.losses[-5:]) < 0.7 * np.mean(r.losses[:3])
    assert r.losses == reports[1].losses and torch.equal(logits[0], logits[1])


def random_topk(tok, enc, k=3, seed=0):
    """Teacher top-k per response token: k distinct ids, random logprobs; every other example
    lacks the EOS entry (a teacher that stopped at max_new_tokens)."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for i, e in enumerate(enc):
        steps = []
        for _ in range(e.n_response_tokens - i % 2):
            ids, lps = torch.randperm(len(tok), generator=g)[:k], torch.log_softmax(torch.randn(k, generator=g), -1)
            steps.append(list(zip(ids.tolist(), lps.tolist())))
        out.append(steps)
    return out


@pytest.mark.parametrize("loss", ["sft", "kd"])
def test_train_steps_on_the_tested_losses(tok, loss):
    # train() computes its loss from logits at target positions only; the value it reports must
    # be sft_loss / topk_kd_loss on the full logits of the same batch, with the same weights.
    enc = lm.encode_pairs(tok, PROMPTS, ANSWERS, max_len=64)
    enc = lm.encode_pairs(tok, PROMPTS, ANSWERS, max_len=64, topk=random_topk(tok, enc) if loss == "kd" else None)
    model = tiny(tok)
    start = copy.deepcopy(model)
    kd = lm.KDConfig(alpha=0.3, temperature=2.0)
    r = lm.train(model, enc, lm.TrainConfig(batch_size=len(enc), max_steps=1), seed=0, loss=loss, kd=kd, pad_id=0,
                 progress=False)
    t = lm.collate(enc, pad_id=0)  # the one batch: every example (train's order differs; a mean does not care)
    with torch.no_grad():
        logits = start(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).logits
    want = lm.sft_loss(logits, t["labels"])
    if loss == "kd":
        kd_term = lm.topk_kd_loss(logits, t["topk_ids"], t["topk_logprobs"], t["kd_mask"], kd.temperature)
        assert abs(kd_term - want) > 0.1  # the mix below tells KD from SFT
        want = kd.alpha * kd_term + (1 - kd.alpha) * want
    assert r.losses[0] == pytest.approx(want.item(), abs=1e-6)
    assert not torch.equal(model.lm_head.weight, start.lm_head.weight)  # it did step


def test_train_never_exceeds_the_token_budget_and_counts_it_exactly(tok):
    enc = lm.encode_pairs(tok, PROMPTS, ANSWERS, max_len=64)
    budget = sum(e.n_tokens for e in enc) + 7  # one epoch plus a bit: the next sequence cannot fit whole
    seen = []
    r = lm.train(tiny(tok), enc, lm.TrainConfig(batch_size=4, max_train_tokens=budget), seed=0,
                 callback=lambda step, loss, lr, tokens: seen.append(tokens), progress=False)
    assert r.train_tokens <= budget and r.train_tokens == seen[-1]
    assert r.train_tokens >= sum(e.n_tokens for e in enc)
    assert r.response_tokens < r.train_tokens


def test_kd_training_moves_the_student_to_the_teachers_top_k(tok):
    # A teacher whose every step has the same peaked top-3 (a constant head): greedy, it never
    # says EOS, so each top-k list is one shorter than the response (EOS gets no KD target).
    bias = torch.zeros(len(tok))
    bias[[5, 6, 7]] = torch.tensor([3.0, 1.0, 0.5])
    gens = lm.generate(_constant_head(tiny(tok), bias), tok, PROMPTS, max_new_tokens=4, top_k_logprobs=3)
    assert all(not g.finished and g.token_ids == (5, 5, 5, 5) for g in gens)
    enc = lm.encode_pairs(tok, PROMPTS, [g.text for g in gens], max_len=64, topk=[g.topk for g in gens],
                          response_ids=[g.token_ids for g in gens])
    assert all(len(e.topk) == e.n_response_tokens - 1 == 4 for e in enc)
    t = lm.collate(enc, pad_id=0)

    def kd_loss(model):
        with torch.no_grad():
            logits = model(input_ids=t["input_ids"], attention_mask=t["attention_mask"]).logits
        return lm.topk_kd_loss(logits, t["topk_ids"], t["topk_logprobs"], t["kd_mask"]).item()

    student = tiny(tok, seed=1)
    before = kd_loss(student)
    r = lm.train(student, enc, lm.TrainConfig(lr=1e-2, batch_size=3, max_steps=30, warmup_steps=2), seed=0,
                 loss="kd", kd=lm.KDConfig(alpha=1.0), progress=False)
    # 6 examples in batches of 3: 30 steps are exactly 15 epochs
    assert (r.steps, r.sequences, r.train_tokens) == (30, 90, 15 * sum(e.n_tokens for e in enc))
    assert before > 0.2 and kd_loss(student) < 0.1 * before  # measured: 0.30 -> 0.0002


def test_greedy_generation_is_repeatable_and_batch_independent(tok):
    model = tiny(tok)
    a = lm.generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=4)
    b = lm.generate(model, tok, PROMPTS, max_new_tokens=6, batch_size=1)
    assert [g.token_ids for g in a] == [g.token_ids for g in b]
    for g in a:
        assert g.n_tokens == len(g.token_ids) <= 6
        assert g.finished == (tok.eos_token_id in g.token_ids)


def _constant_head(model, bias):
    """Replace the LM head so every position's logits equal ``bias`` (raw logits known exactly)."""
    head = torch.nn.Linear(model.config.hidden_size, bias.numel(), bias=True)
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(bias)
    model.lm_head = head
    return model


def test_generation_stops_at_eos_and_counts_it(tok):
    bias = torch.zeros(len(tok))
    bias[tok.eos_token_id] = 5.0
    gens = lm.generate(_constant_head(tiny(tok), bias), tok, PROMPTS[:3], max_new_tokens=5, top_k_logprobs=2)
    for g in gens:
        assert g.finished and g.token_ids == (tok.eos_token_id,) and g.n_tokens == 1 and g.text == ""
        assert g.topk[0][0][0] == tok.eos_token_id
        assert g.topk[0][0][1] == pytest.approx(torch.log_softmax(bias, -1)[tok.eos_token_id].item(), abs=1e-5)


def test_unfinished_generation_counts_max_new_tokens_and_topk_are_raw_logprobs(tok):
    gens = lm.generate(_constant_head(tiny(tok), torch.zeros(len(tok))), tok, PROMPTS[:2], max_new_tokens=5, top_k_logprobs=2)
    for g in gens:  # uniform logits: never EOS (argmax is id 0), every logprob is -log V
        assert g.n_tokens == 5 and not g.finished and len(g.topk) == 5
        assert np.allclose([lp for _, lp in g.topk[0]], -np.log(len(tok)), atol=1e-5)


def test_sampling_is_seeded(tok):
    model = tiny(tok)
    a = lm.generate(model, tok, PROMPTS, max_new_tokens=5, temperature=1.0, seed=7)
    b = lm.generate(model, tok, PROMPTS, max_new_tokens=5, temperature=1.0, seed=7)
    assert [g.token_ids for g in a] == [g.token_ids for g in b]


def test_response_loglik_matches_per_example_computation(tok):
    model = tiny(tok)
    ll = lm.response_loglik(model, tok, PROMPTS, ANSWERS, batch_size=4)
    for e, got in zip(lm.encode_pairs(tok, PROMPTS, ANSWERS, max_len=64), ll):
        with torch.no_grad():
            lp = torch.log_softmax(model(torch.tensor([e.input_ids])).logits[0].double(), -1)
        manual = np.mean([lp[t - 1, e.input_ids[t]].item() for t in range(e.n_prompt_tokens, len(e.input_ids))])
        assert got == pytest.approx(manual, abs=1e-5)


def test_segmented_decoding_gives_the_one_pass_answers_and_logprobs(tok):
    model = tiny(tok)  # untrained: answers of every length up to max_new_tokens
    prompts = PROMPTS * 3
    one = lm.generate(model, tok, prompts, max_new_tokens=9, batch_size=4, top_k_logprobs=3, segment=None)
    seg = lm.generate(model, tok, prompts, max_new_tokens=9, batch_size=4, top_k_logprobs=3, segment=2)
    assert any(g.n_tokens > 2 for g in one)  # some rows did continue after their first segment
    for a, b in zip(one, seg):
        assert (a.token_ids, a.finished, a.text) == (b.token_ids, b.finished, b.text)
        assert [t for t, _ in sum(a.topk, [])] == [t for t, _ in sum(b.topk, [])]
        assert np.allclose([lp for _, lp in sum(a.topk, [])], [lp for _, lp in sum(b.topk, [])], atol=1e-4)


@pytest.mark.parametrize("segment", [None, 2])
@pytest.mark.parametrize("cap", [1, 7, 13, 40, 1000])
def test_budgeted_generation_answers_a_prefix_and_never_passes_the_budget(tok, cap, segment):
    model = tiny(tok)  # untrained: answers run to max_new_tokens or stop at a random EOS
    prompts = PROMPTS * 3
    full = lm.generate(model, tok, prompts, max_new_tokens=6, batch_size=4)
    gens = lm.generate(model, tok, prompts, max_new_tokens=6, max_total_tokens=cap, batch_size=4, segment=segment)
    assert sum(g.n_tokens for g in gens) <= cap
    assert len(gens) <= len(prompts) and (len(gens) == len(prompts) or sum(g.n_tokens for g in gens) > cap - 6)
    # the answers that were not cut by the budget are the same greedy answers
    for g, f in zip(gens, full):
        if g.finished or g.n_tokens == 6:
            assert g.token_ids == f.token_ids


@pytest.mark.parametrize("seed,cap", [(0, 20), (0, 23), (2, 62), (2, 98)])
def test_budget_holds_when_more_rows_wait_than_tokens_are_left(tok, seed, cap):
    # Sampled answers of random length (EOS ~1 in 6 per step): the rows still open after their
    # first segment can outnumber the tokens left, and each continued row takes a token on its
    # first step, before the cap can stop it. These (seed, cap) pairs passed the budget by one.
    bias = torch.zeros(len(tok))
    bias[tok.eos_token_id] = 4.0
    model = _constant_head(tiny(tok), bias)
    gens = lm.generate(model, tok, PROMPTS * 4, max_new_tokens=12, max_total_tokens=cap, batch_size=4, segment=2,
                       temperature=1.0, seed=seed)
    assert sum(g.n_tokens for g in gens) <= cap
    assert sum(g.n_tokens for g in gens) > cap - 12  # the budget was used, not skipped


@pytest.mark.parametrize("segment", [None, 2])
def test_budget_cut_rows_are_unfinished_and_short(tok, segment):
    bias = torch.zeros(len(tok))  # uniform logits: no EOS, every answer would take max_new_tokens
    model = _constant_head(tiny(tok), bias)
    gens = lm.generate(model, tok, PROMPTS, max_new_tokens=6, max_total_tokens=10, batch_size=4, segment=segment)
    assert sum(g.n_tokens for g in gens) <= 10 and all(not g.finished for g in gens)
    assert gens[0].n_tokens == 6 and any(g.n_tokens < 6 for g in gens[1:])  # the first batch fits; the next is cut


def _tiny_setup(root, seed: int = 0):
    pairs = [(a, b) for a in range(6) for b in range(6)]
    prompts = [f"Q: What is {a} plus {b}?\nA:" for a, b in pairs]
    tok = load_tokenizer(train_tokenizer([p + f" {a + b}" for p, (a, b) in zip(prompts, pairs)], 300, root / "tok"))
    model = build_model(ModelSpec(layers=1, hidden=32, heads=2, max_position=64), len(tok), seed=seed)
    enc = lm.encode_pairs(tok, prompts, [f" {a + b}" for a, b in pairs], 64)
    return model, enc, tok


@pytest.mark.parametrize("settings", [{"grad_accum": 3}, {"gradient_checkpointing": True}])
def test_accumulation_and_checkpointing_train_the_same_model(settings, tmp_path):
    """Micro-batches weighted by their target tokens give the whole batch's gradient; recomputed
    activations give the same gradient: the same losses and weights as one plain pass."""
    import torch

    model, enc, tok = _tiny_setup(tmp_path)
    other = copy.deepcopy(model)
    base = lm.TrainConfig(lr=1e-2, batch_size=12, max_steps=4, warmup_steps=1)
    plain = lm.train(model, enc, base, seed=0, pad_id=tok.pad_token_id, progress=False)
    variant = lm.train(other, enc, lm.TrainConfig(**{**base.__dict__, **settings}), seed=0, pad_id=tok.pad_token_id,
                       progress=False)
    assert plain.train_tokens == variant.train_tokens and plain.steps == variant.steps == 4
    np.testing.assert_allclose(plain.losses, variant.losses, rtol=1e-5)
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_bf16_autocast_trains_close_to_float32(tmp_path):
    model, enc, tok = _tiny_setup(tmp_path)
    other = copy.deepcopy(model)
    base = lm.TrainConfig(lr=1e-2, batch_size=12, max_steps=3, warmup_steps=1)
    full = lm.train(model, enc, base, seed=0, pad_id=tok.pad_token_id, progress=False)
    cast = lm.train(other, enc, lm.TrainConfig(**{**base.__dict__, "autocast": "bfloat16"}), seed=0,
                    pad_id=tok.pad_token_id, progress=False)
    assert cast.losses != full.losses  # it did run in bfloat16
    np.testing.assert_allclose(cast.losses, full.losses, rtol=2e-2)
    with pytest.raises(ReadError, match="autocast"):
        lm.TrainConfig(max_steps=1, autocast="int8")


def test_encoding_ignores_padding_a_caller_left_on_the_tokenizer(tmp_path):
    """tokenizer(texts, padding=True) leaves the Rust backend padding; encoding must not
    pick that up, or token counts (the budget) and greedy answers change."""
    _, _, tok = _tiny_setup(tmp_path)
    prompts = ["Q: What is 1 plus 2?\nA:", "Q: What is 10 plus 20?\nA:"]
    clean = lm.encode_prompts(tok, prompts)
    tok(prompts, padding=True)  # what user code sharing the tokenizer may do
    assert tok.backend_tokenizer.padding is not None
    assert lm.encode_prompts(tok, prompts) == clean and len(clean[0]) < len(clean[1])
