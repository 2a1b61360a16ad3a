"""The moving average of the weights: its arithmetic, its warm-up and its buffers."""

import pytest
import torch
from torch import nn

from rtsim.training.averaging import WeightAverage


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def test_average_is_a_bias_corrected_moving_mean():
    net = _net()
    avg = WeightAverage(net, 0.9)
    w0 = net[0].weight.detach().clone()
    rates = []
    want = w0.clone()
    for _ in range(100):
        with torch.no_grad():
            net[0].weight.add_(1.0)  # the model walks; the average lags behind it
        rates.append(avg.rate())
        want = rates[-1] * want + (1 - rates[-1]) * net[0].weight.detach()
        avg.update(net)
    assert rates[0] == 0 and rates[-1] == pytest.approx(0.9, abs=1e-4)
    assert all(a <= b for a, b in zip(rates, rates[1:], strict=False))
    torch.testing.assert_close(avg.model[0].weight, want)
    assert (avg.model[0].weight < net[0].weight).all()  # behind, but not at the start
    assert (avg.model[0].weight > w0 + 80).all()
    # bias-corrected: the mean of the states seen, weighted decay ** age, init not among them
    ages = torch.arange(99, -1, -1, dtype=torch.float64)
    w = 0.9 ** ages
    torch.testing.assert_close(avg.model[0].weight.double(),
                               w0.double() + float((w * (ages.flip(0) + 1)).sum() / w.sum()),
                               rtol=1e-5, atol=1e-4)
    assert avg.updates == 100 and not avg.model[0].weight.requires_grad


def test_batch_norm_statistics_are_averaged_and_counters_copied():
    net = _net()
    avg = WeightAverage(net, 0.5)
    net.train()
    net(torch.randn(16, 3) * 5 + 3)  # moves the running statistics, counts one batch
    avg.update(net)
    bn, abn = net[1], avg.model[1]
    torch.testing.assert_close(abn.running_mean, bn.running_mean)  # the first update copies
    assert int(abn.num_batches_tracked) == int(bn.num_batches_tracked) == 1
    assert not abn.training  # the average is only ever evaluated


def test_the_trained_model_is_untouched_and_bad_decays_are_refused():
    net = _net()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    avg = WeightAverage(net, 0.99)
    with torch.no_grad():
        avg.model[0].weight.add_(5.0)
    avg.update(net)
    for k, v in net.state_dict().items():
        torch.testing.assert_close(v, before[k])
    for bad in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="decay"):
            WeightAverage(net, bad)
