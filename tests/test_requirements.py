import numpy as np
import pytest

from read.capabilities import INDEX, K
from read.errors import ReadError
from read.requirements import requirement_from_card, uniform_requirement


def test_requirement_from_card_is_normalised_in_capability_order():
    r = requirement_from_card({"math": 3, "code": 1}, "cards.yaml: tasks.t.requirement")
    assert r.shape == (K,) and r.sum() == pytest.approx(1.0)
    assert r[INDEX["math"]] == 0.75 and r[INDEX["code"]] == 0.25


@pytest.mark.parametrize(
    "req, msg",
    [
        ({"poetry": 1.0}, "unknown capability 'poetry'"),
        ({"math": -1.0}, "finite number >= 0"),
        ({"math": 0.0}, "all weights are zero"),
        (["math"], "must be a mapping"),
    ],
)
def test_bad_card_requirements_name_the_card(req, msg):
    with pytest.raises(ReadError, match=msg) as err:
        requirement_from_card(req, "cards.yaml: tasks.t.requirement")
    assert "cards.yaml: tasks.t.requirement" in str(err.value)


def test_uniform_requirement_is_on_the_simplex():
    r = uniform_requirement()
    assert r.shape == (K,) and np.allclose(r, 1 / K) and r.sum() == pytest.approx(1.0)
