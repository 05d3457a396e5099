import json

import pytest

from cnnstudio.core.config import RunConfig
from cnnstudio.core.errors import ConfigError


def test_round_trips_through_json():
    config = RunConfig(name="demo")
    config.dataset.options["size"] = 28
    config.training.epochs = 7
    again = RunConfig.from_json(config.to_json())
    assert again == config
    assert json.loads(config.to_json())["training"]["epochs"] == 7


def test_defaults_are_the_offline_lenet_run():
    config = RunConfig()
    assert (config.dataset.id, config.model.id) == ("mnist-5k", "lenet5")
    assert config.problems() == []


@pytest.mark.parametrize("field, value, message", [
    ("batch_size", 0, "batch_size must be a positive integer, got 0"),
    ("epochs", -1, "epochs must be a positive integer, got -1"),
    ("learning_rate", 0.0, "learning_rate must be a number between 0 and 10, got 0.0"),
    ("validation_split", 1.0, "validation_split must be a fraction in [0, 1), got 1.0"),
    ("optimizer", "adamm", "unknown optimizer 'adamm' — known: adam, sgd"),
    ("device", "tpu", "device must be 'auto', 'cpu', 'gpu:N' or 'all' (every GPU, data "
                      "parallel), got 'tpu'"),
    ("seed", 1.5, "seed must be a non-negative integer, got 1.5"),
])
def test_each_bad_number_gets_one_clear_sentence(field, value, message):
    config = RunConfig()
    setattr(config.training, field, value)
    problems = config.problems()
    assert len(problems) == 1
    assert problems[0].startswith(message)


def test_unknown_ids_name_the_known_ones():
    config = RunConfig()
    config.dataset.id = "mnsit"
    config.model.id = "lenet"
    problems = config.problems()
    assert problems[0].startswith("unknown dataset 'mnsit' (did you mean 'mnist'?) — known: "
                                  "mnist-5k, digits, mnist, ")
    assert problems[1].startswith("unknown model 'lenet'")
    with pytest.raises(ConfigError, match="unknown dataset 'mnsit'"):
        config.check()


def test_unknown_keys_and_bad_json_are_reported():
    with pytest.raises(ConfigError, match="unknown key 'epoch' in training"):
        RunConfig.from_dict({"training": {"epoch": 3}})
    with pytest.raises(ConfigError, match="not valid JSON"):
        RunConfig.from_json("{nope")
    with pytest.raises(ConfigError, match="config file not found"):
        RunConfig.load("/no/such/run.json")
