"""Losses on causal-LM logits: masked SFT cross-entropy and top-k KD, with the causal shift.

Logits at position t predict token t + 1, so a label at t is scored by the logits at
t - 1. Labels equal to ``IGNORE`` (-100: prompt and padding) are never targets.

There is one implementation of each loss, on the N *target positions* only
(:func:`target_position_loss`): :func:`read.lm.train` calls it on :func:`target_logits`, and
:func:`sft_loss` / :func:`topk_kd_loss` are the same loss on full ``(B, T, V)`` logits.
torch is imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

from read.errors import bad_input

IGNORE = -100  # label value ignored by every loss here (as in torch/transformers)


def target_positions(labels):
    """(B, T) labels -> (B, T - 1) bool, True at t when token t + 1 is a target (not IGNORE)."""
    return labels[:, 1:] != IGNORE


def target_logits(model, input_ids, attention_mask, select):
    """Logits only where a loss looks: ``lm_head`` applied to the selected hidden states.

    Args:
        model: a Hugging Face causal LM, plain or peft-wrapped (anything with
            ``get_decoder()`` and ``get_output_embeddings()``).
        input_ids, attention_mask: (B, T).
        select: (B, T - 1) bool; True at t when the token at t + 1 is a target.
    Returns: (N, V) logits, N = select.sum(), rows in row-major (b, t) order.

    Same numbers as ``model(...).logits[:, :-1][select]``, but the vocabulary projection
    runs on the N target positions only. Responses are a quarter of the tokens of a world
    item, so this skips most of the lm_head matmul, which is a third of a tiny Llama's
    step at vocab 2048 (measured: aten::mm is 54% of a step).
    """
    hidden = model.get_decoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
    return model.get_output_embeddings()(hidden[:, :-1][select])


def cross_entropy(logits, targets):
    """Mean -log p(target) over N rows: logits (N, V), targets (N,). 0 for N = 0 (never nan)."""
    import torch.nn.functional as F

    if targets.numel() == 0:
        return logits.sum() * 0.0
    return F.cross_entropy(logits.float(), targets)


def topk_kl(logits, topk_ids, topk_logprobs, temperature: float = 1.0):
    """Per-row KL from the teacher's top-k distribution to the student on the same k ids.

        KL_n = Σ_{j≤k} p_j (log p_j − log q_j),
        p = softmax(topk_logprobs_n / T), q = softmax(logits_n[topk_ids_n] / T)

    Args: logits (N, V); topk_ids, topk_logprobs (N, k). Returns (N,).
    """
    import torch

    if temperature <= 0:
        raise bad_input("topk_kd_loss", f"temperature must be > 0, got {temperature}", "use e.g. 1.0")
    s_lp = torch.log_softmax(torch.gather(logits.float(), -1, topk_ids) / temperature, dim=-1)
    t_lp = torch.log_softmax(topk_logprobs.float() / temperature, dim=-1)
    return (t_lp.exp() * (t_lp - s_lp)).sum(-1)


def masked_mean(values, mask):
    """Mean of ``values`` where ``mask`` is True; 0 (not 0/0 = nan) when nothing is masked in."""
    n = mask.sum().clamp(min=1)
    return (values * mask).sum() / n


def topk_kd_term(logits, topk_ids, topk_logprobs, mask, temperature: float = 1.0):
    """The KD loss on rows already aligned (no shift): ``T² · masked_mean(topk_kl, mask)``.

        L = T² · Σ_n mask_n KL_n / max(1, Σ_n mask_n)      (KL_n as in :func:`topk_kl`)

    Args: logits (..., V); topk_ids, topk_logprobs (..., k) the teacher's distribution for
        the same rows; mask (...) bool, True where a row has one. Returns a scalar, 0 if no row does.
    """
    return masked_mean(topk_kl(logits, topk_ids, topk_logprobs, temperature), mask) * temperature**2


def target_position_loss(logits, labels, kd_targets=None, *, alpha: float = 0.5, temperature: float = 1.0):
    """The loss :func:`read.lm.train` steps on, from logits at the N target positions only.

        L_sft = mean_n −log q_n(y_n)                               (:func:`cross_entropy`)
        L_kd  = α · T² · mean_{n: kd_mask} KL_n + (1 − α) · L_sft   (:func:`topk_kd_term`)

    n runs over ``target_positions(labels)`` in row-major (b, t) order; y_n is the label at
    (b, t + 1). Without ``kd_targets`` this is L_sft, else L_kd. ``kd_mask`` is True only where
    a label is (collate), so keeping the target positions drops no KD token.

    Args:
        logits: (N, V), the logits at the target positions: ``full[:, :-1][target_positions(labels)]``
            or :func:`target_logits`.
        labels: (B, T) token ids, -100 = ignore (as :func:`read.lm.collate` gives them).
        kd_targets: None for SFT, or ``(topk_ids, topk_logprobs, kd_mask)``, (B, T, k), (B, T, k),
            (B, T) bool, aligned with ``labels`` (entry t = the teacher's distribution for token t).
        alpha: KD weight in [0, 1]; temperature: > 0 (``KDConfig``). Unused for SFT.
    Returns: scalar; 0 (never nan) with no targets.
    """
    select = target_positions(labels)  # (B, T-1)
    value = cross_entropy(logits, labels[:, 1:][select])
    if kd_targets is None:
        return value
    ids, lps, mask = (x[:, 1:][select] for x in kd_targets)  # (N, k), (N, k), (N,)
    kd_value = topk_kd_term(logits, ids, lps, mask, temperature)
    return alpha * kd_value + (1 - alpha) * value


def sft_loss(logits, labels):
    """Masked token-mean cross-entropy with the causal shift: :func:`target_position_loss` on full logits.

    Args:
        logits: (B, T, V) model outputs; ``logits[:, t]`` predicts token ``t + 1``.
        labels: (B, T) token ids, -100 = ignore (prompt and padding).
    Returns: scalar = mean over non-ignored target tokens of -log p(label).
    """
    return target_position_loss(logits[:, :-1][target_positions(labels)], labels)


def topk_kd_loss(student_logits, topk_ids, topk_logprobs, mask, temperature: float = 1.0):
    """Forward KL from the teacher's top-k distribution to the student, on the same k ids.

        L = T² · mean_{tokens} Σ_{j≤k} p_j (log p_j − log q_j),
        p = softmax(topk_logprobs / T)             (teacher top-k, renormalised over its k ids)
        q = softmax(student_logits[ids] / T)       (student restricted to those k ids, renormalised)

    Restricting *both* sides to the teacher's k ids makes L a proper KL ≥ 0 that is exactly
    0 when the student's relative preferences among those ids match the teacher's, and it
    needs no assumption about the teacher's missing tail mass (API teachers only return
    top-k). The student's mass outside the k ids is not penalised here; mix with
    :func:`sft_loss` (``KDConfig.alpha``) to keep pushing it onto the teacher's token.
    T² keeps gradient scale comparable across temperatures (Hinton et al., 2015).

    Args:
        student_logits: (B, T, V); ``student_logits[:, t]`` predicts token ``t + 1``.
        topk_ids, topk_logprobs: (B, T, k) teacher top-k for token t (aligned with labels).
        mask: (B, T) bool, True where token t has a teacher distribution.
        temperature: > 0.
    Returns: scalar, mean over masked tokens (0 if none).
    """
    # the same term train() takes on the target positions, here over all (B, T-1) positions
    return topk_kd_term(student_logits[:, :-1], topk_ids[:, 1:], topk_logprobs[:, 1:], mask[:, 1:], temperature)

