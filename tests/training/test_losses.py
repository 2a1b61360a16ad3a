"""Each loss equals a plain Python loop over its triplets."""

import copy
import math

import numpy as np
import pytest
import torch

from rtsim.errors import ConfigError
from rtsim.training.losses import (
    ConditionalAdversary,
    MaskedTripletLoss,
    ProxySoftmaxLoss,
    TripletBatch,
    TripletMarginLoss,
    TwoMarginContrastiveLoss,
    grad_reverse,
    proxy_softmax_loss,
)


def _batch(n=16, d=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TripletBatch(*(torch.randn(n, d, generator=g) for _ in range(3)))


def _l2(u, v):
    return math.sqrt(sum((a - b) ** 2 for a, b in zip(u, v, strict=True)))


def _cos(u, v):
    dot = sum(a * b for a, b in zip(u, v, strict=True))
    return 1 - dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def test_two_margin_contrastive_equals_loop():
    b = _batch()
    mp, mn = 0.3, 1.7
    want = 0.0
    for a, p, n in zip(b.anchor.tolist(), b.positive.tolist(), b.negative.tolist(), strict=True):
        dp, dn = _l2(a, p), _l2(a, n)
        want += max(0.0, dp**2 - mp) + max(0.0, mn - dn) ** 2
    got = TwoMarginContrastiveLoss(margin_pos=mp, margin_neg=mn)(b)
    assert float(got) == pytest.approx(want / len(b.anchor), rel=1e-5)


@pytest.mark.parametrize("metric,dist", [("l2", _l2), ("cosine", _cos)])
def test_triplet_margin_equals_loop(metric, dist):
    b = _batch(seed=1)
    margin = 0.2
    want = sum(max(0.0, dist(a, p) - dist(a, n) + margin)
               for a, p, n in zip(b.anchor.tolist(), b.positive.tolist(), b.negative.tolist(),
                                  strict=True))
    got = TripletMarginLoss(margin=margin, metric=metric)(b)
    assert float(got) == pytest.approx(want / len(b.anchor), rel=1e-5)


def test_masked_triplet_equals_loop():
    b = _batch(n=20, d=8, seed=2)
    slices = [(0, 4), (4, 8)]
    which = torch.tensor([i % 2 for i in range(20)])
    margin = 0.1
    want = []
    for a, p, n, k in zip(b.anchor.tolist(), b.positive.tolist(), b.negative.tolist(),
                          which.tolist(), strict=True):
        lo, hi = slices[k]

        def unit(v, lo=lo, hi=hi):
            s = v[lo:hi]
            norm = math.sqrt(sum(x * x for x in s))
            return [x / norm for x in s]

        want.append(max(0.0, _l2(unit(a), unit(p)) - _l2(unit(a), unit(n)) + margin))
    got = MaskedTripletLoss(slices, margin=margin)(b, which)
    assert float(got) == pytest.approx(sum(want) / len(want), rel=1e-5)


def test_losses_train_something():
    """A few SGD steps on separable data reduce each loss (gradients flow)."""
    torch.manual_seed(0)
    x = torch.randn(64, 10)
    net = torch.nn.Linear(10, 4)
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    loss_fn = TripletMarginLoss(margin=5.0, metric="l2")
    first = None
    for _ in range(30):
        b = TripletBatch(net(x), net(x + 0.01 * torch.randn_like(x)), net(x.roll(1, 0)))
        loss = loss_fn(b)
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < first


def test_bad_shapes_and_metrics():
    with pytest.raises(ConfigError, match="share one"):
        TripletBatch(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ConfigError, match="metric='dot'"):
        TripletMarginLoss(metric="dot")


@pytest.mark.parametrize("metric,dist", [("l2", _l2), ("cosine", _cos)])
def test_batch_hard_equals_loop(metric, dist):
    from rtsim.training.losses import BatchHardTripletLoss

    g = torch.Generator().manual_seed(4)
    emb = torch.randn(12, 5, generator=g)
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 1, 0])
    rows = emb.tolist()
    want = []
    for i in range(12):
        pos = [dist(rows[i], rows[j]) for j in range(12) if j != i and labels[j] == labels[i]]
        neg = [dist(rows[i], rows[j]) for j in range(12) if labels[j] != labels[i]]
        if pos and neg:
            want.append(max(0.0, max(pos) - min(neg) + 0.3))
    got = BatchHardTripletLoss(margin=0.3, metric=metric)(emb, labels)
    assert float(got) == pytest.approx(sum(want) / len(want), rel=1e-4)


def _batch_all_loop(rows, pos, neg, margin, dist):
    active = []
    n = len(rows)
    for i in range(n):
        for j in range(n):
            for k in range(n):
                if pos[i][j] and neg[i][k]:
                    v = dist(rows[i], rows[j]) - dist(rows[i], rows[k]) + margin
                    if v > 0:
                        active.append(v)
    return sum(active) / len(active) if active else 0.0


def _relation(n, seed):
    g = torch.Generator().manual_seed(seed)
    tempo = torch.randint(60, 80, (n,), generator=g)
    sim = (tempo[:, None] - tempo[None, :]).abs() <= 5      # a relation, not a label
    return sim & ~torch.eye(n, dtype=torch.bool), ~sim


@pytest.mark.parametrize("metric,dist", [("l2", _l2), ("cosine", _cos)])
def test_batch_all_equals_loop(metric, dist):
    from rtsim.training.losses import BatchAllTripletLoss

    emb = torch.randn(10, 4, generator=torch.Generator().manual_seed(5))
    pos, neg = _relation(10, 6)
    want = _batch_all_loop(emb.tolist(), pos.tolist(), neg.tolist(), 0.4, dist)
    got = BatchAllTripletLoss(margin=0.4, metric=metric)(emb, pos, neg)
    assert want > 0 and float(got) == pytest.approx(want, rel=1e-4)
    # no valid triplet: zero, and still differentiable
    none = torch.zeros(10, 10, dtype=torch.bool)
    emb.requires_grad_(True)
    zero = BatchAllTripletLoss(margin=0.4, metric=metric)(emb, none, neg)
    zero.backward()
    assert float(zero.detach()) == 0.0


def test_masked_batch_all_equals_loop():
    from rtsim.training.losses import MaskedBatchAllTripletLoss

    emb = torch.randn(9, 6, generator=torch.Generator().manual_seed(7))
    slices = [(0, 2), (2, 6)]
    masks = [_relation(9, 8), _relation(9, 9)]
    want = []
    for (lo, hi), (pos, neg) in zip(slices, masks, strict=True):
        sub = torch.nn.functional.normalize(emb[:, lo:hi], dim=-1).tolist()
        want.append(_batch_all_loop(sub, pos.tolist(), neg.tolist(), 0.1, _l2))
    got = MaskedBatchAllTripletLoss(slices, margin=0.1)(
        emb, torch.stack([m[0] for m in masks]), torch.stack([m[1] for m in masks]))
    assert float(got) == pytest.approx(sum(want) / 2, rel=1e-4)
    with pytest.raises(ConfigError, match="one mask per subspace"):
        MaskedBatchAllTripletLoss(slices)(emb, masks[0][0][None], masks[0][1][None])


def _supcon_loop(z, labels, t):
    """Khosla et al.'s L_out written out anchor by anchor."""
    n, total, anchors = len(z), 0.0, 0
    for i in range(n):
        pos = [p for p in range(n) if p != i and labels[p] == labels[i]]
        if not pos:
            continue
        denom = sum(np.exp(z[i] @ z[a] / t) for a in range(n) if a != i)
        total += -np.mean([np.log(np.exp(z[i] @ z[p] / t) / denom) for p in pos])
        anchors += 1
    return total / anchors


def test_supcon_matches_the_loop():
    from rtsim.training.losses import SupConLoss

    rng = np.random.default_rng(0)
    z = rng.normal(size=(12, 5))
    z /= np.linalg.norm(z, axis=1, keepdims=True)
    labels = np.array([0, 0, 1, 1, 1, 2, 3, 3, 0, 2, 4, 1])  # label 4 has no positive
    got = SupConLoss(0.1)(torch.tensor(z), torch.tensor(labels))
    assert float(got) == pytest.approx(_supcon_loop(z, labels, 0.1), rel=1e-9)


def test_supcon_prefers_clustered_embeddings_and_checks_shapes():
    from rtsim.training.losses import supcon_loss

    labels = torch.tensor([0, 0, 1, 1])
    good = torch.tensor([[1.0, 0], [1, 0], [0, 1], [0, 1]])
    bad = torch.tensor([[1.0, 0], [0, 1], [1, 0], [0, 1]])
    assert supcon_loss(good, labels, 0.1) < supcon_loss(bad, labels, 0.1)
    assert float(supcon_loss(good, torch.arange(4), 0.1)) == 0.0  # no positives at all
    with pytest.raises(ConfigError, match="must be"):
        supcon_loss(good, labels[:3], 0.1)
    with pytest.raises(ConfigError, match="temperature"):
        supcon_loss(good, labels, 0.0)


def test_grad_reverse_is_the_identity_forward_and_negates_the_gradient():
    x = torch.randn(5, 3, requires_grad=True)
    y = grad_reverse(x, 0.5)
    torch.testing.assert_close(y, x)
    (y * torch.arange(3.0)).sum().backward()
    torch.testing.assert_close(x.grad, -0.5 * torch.arange(3.0).expand(5, 3))


def test_the_adversary_learns_the_source_while_the_embedding_unlearns_it():
    torch.manual_seed(0)
    n, dim = 64, 4
    sources = torch.arange(n) % 2
    classes = torch.zeros(n, dtype=torch.long)           # one class: only z can tell
    z = (torch.randn(n, dim) + 2.0 * sources[:, None]).requires_grad_()
    adv = ConditionalAdversary(dim, 1, 2, weight=1.0)
    loss = adv(z, classes, sources)
    loss.backward()
    stepped = copy.deepcopy(adv)
    with torch.no_grad():
        for p, q in zip(stepped.parameters(), adv.parameters(), strict=True):
            p -= 0.1 * q.grad
        # one gradient step: the adversary's own parameters lower its loss ...
        assert stepped(z, classes, sources) < loss
        # ... and the reversed gradient moves the embedding to raise it
        assert adv(z - 0.5 * z.grad, classes, sources) > loss


def test_the_adversary_sees_the_class():
    torch.manual_seed(0)
    n = 60
    classes = torch.arange(n) % 3
    sources = (classes == 1).long()                      # the class alone names the source
    z = torch.zeros(n, 4)
    adv = ConditionalAdversary(4, 3, 2)
    opt = torch.optim.Adam(adv.parameters(), lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        loss = adv(z, classes, sources)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_the_adversary_checks_its_arguments():
    with pytest.raises(ConfigError, match="needs >= 2 sources"):
        ConditionalAdversary(4, 3, 1)
    with pytest.raises(ConfigError, match="weight=0"):
        ConditionalAdversary(4, 3, 2, weight=0)


def test_proxy_softmax_matches_a_plain_loop():
    torch.manual_seed(0)
    z, proxies = torch.randn(6, 5), torch.randn(3, 5)
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    want = 0.0
    for zi, yi in zip(z, labels, strict=True):
        cos = [float(torch.dot(zi, p) / (zi.norm() * p.norm())) for p in proxies]
        logits = [c / 0.1 for c in cos]
        want += -(logits[yi] - math.log(sum(math.exp(v) for v in logits)))
    got = proxy_softmax_loss(z, proxies, labels, temperature=0.1)
    assert abs(float(got) - want / len(z)) < 1e-5


def test_proxies_learn_the_classes_and_check_their_arguments():
    torch.manual_seed(0)
    labels = torch.arange(90) % 3
    z = torch.nn.functional.one_hot(labels, 3).float() + 0.1 * torch.randn(90, 3)
    loss_fn = ProxySoftmaxLoss(3, 3, temperature=0.1, seed=1)
    first = float(loss_fn(z, labels))
    opt = torch.optim.Adam(loss_fn.parameters(), lr=0.05)
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(z, labels)
        loss.backward()
        opt.step()
    assert float(loss) < 0.1 < first
    best = (torch.nn.functional.normalize(z) @ torch.nn.functional.normalize(
        loss_fn.proxies.detach()).T).argmax(1)
    assert bool((best == labels).all())
    with pytest.raises(ConfigError, match="needs >= 2 classes"):
        ProxySoftmaxLoss(4, 1)
    with pytest.raises(ConfigError, match="temperature=0"):
        ProxySoftmaxLoss(4, 3, temperature=0)
