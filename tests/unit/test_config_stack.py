"""``[stack]`` and ``serving.max_concurrency``: defaults that deploy on a new account, strict like every table."""

from __future__ import annotations

import pytest

from sluice.config import ConfigError, load_config_text
from sluice.wiring.functions import reserved_concurrency
from tests.unit.test_config import MINIMAL

MODEL = MINIMAL


def test_by_default_nothing_is_reserved_and_drops_are_not_buffered() -> None:
    config = load_config_text(MODEL)
    assert (config.stack.buffer_drops, config.stack.rollback_reserved_concurrency) == (False, 0)
    assert config.model("churn").serving.max_concurrency is None
    # an account at the default quota of 10 can reserve nothing: the defaults ask for nothing
    assert reserved_concurrency(config) == {}


def test_the_options_become_reserved_concurrency_of_rollback_and_of_the_models_predict_function() -> None:
    config = load_config_text("[stack]\nbuffer_drops = true\nrollback_reserved_concurrency = 3\n" + MODEL
                              + "[models.churn.serving]\nmax_concurrency = 25\n")
    assert config.stack.buffer_drops is True
    assert reserved_concurrency(config) == {("rollback_model", None): 3, ("predict", "churn"): 25}
    assert reserved_concurrency(config, reserve_training=True)[("train_model", None)] == 2


@pytest.mark.parametrize(("text", "message"), [
    ("[stack]\nbuffer_drop = true\n", "did you mean 'buffer_drops'"),
    ("[stack]\nrollback_reserved_concurrency = -1\n", "rollback_reserved_concurrency"),
    ("[stack]\nbuffer_drops = \"yes\"\n", "buffer_drops"),
    ("stack = 3\n", "[stack] must be a table"),
])
def test_a_wrong_stack_table_is_refused_naming_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config_text(text + MODEL)
    assert message in str(refused.value)


def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"\[models.churn.serving\] max_concurrency"):
        load_config_text(MODEL + "[models.churn.serving]\nmax_concurrency = 0\n")
