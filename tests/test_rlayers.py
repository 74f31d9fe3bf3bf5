"""R's layer specs (R/layers.R → the "layer" endpoint → dlstat/fronts/rlayers.py)."""

from __future__ import annotations

import dlstat as dl
import pytest

from dlstat.errors import OptionTypeError
from dlstat.fronts import rbridge
from dlstat.fronts.rbridge import options_from_r


def layer(name: str, *positional, **keywords):
    """What R's ``name(...)`` sends: names ('' = positional) and values as reticulate gives."""
    names = [""] * len(positional) + list(keywords)
    return rbridge.rcall("layer", name, names, [*positional, *keywords.values()])


def test_each_r_layer_is_the_python_constructor_of_that_name():
    cases = [("dense", (32.0,), {"activation": "tanh"}, dl.dense(32, "tanh")),
             ("conv2d", (16.0, [3.0, 5.0]), {"padding": "same"}, dl.conv2d(16, (3, 5),
                                                                           padding="same")),
             ("conv1d", (4.0, 3), {"dilation": 2.0}, dl.conv1d(4, 3, dilation=2)),
             ("maxpool", (), {"pool_size": 2.0, "strides": None}, dl.maxpool(2)),
             ("avgpool", ([2.0, 2.0],), {}, dl.avgpool((2, 2))),
             ("reshape", ([28.0, 28.0, 1.0],), {}, dl.reshape((28, 28, 1))),
             ("flatten", (), {}, dl.flatten()), ("global_avgpool", (), {}, dl.global_avgpool()),
             ("dropout", (0.25,), {}, dl.dropout(0.25)), ("batchnorm", (), {}, dl.batchnorm()),
             ("activation", ("gelu",), {}, dl.activation("gelu"))]
    for name, positional, keywords, expected in cases:
        res = layer(name, *positional, **keywords)
        assert res["ok"], res
        assert res["value"]["__dlstat__"] == "layer"
        (built,) = options_from_r({"architecture": [res["value"]]})["architecture"]
        assert built == expected, name
        assert type(built.__dict__.get("units", 0)) is int  # R's doubles arrive as ints


def test_architecture_accepts_one_layer_and_keeps_python_objects():
    spec = layer("dense", 3.0)["value"]
    assert options_from_r({"architecture": spec})["architecture"] == [dl.dense(3)]
    assert options_from_r({"architecture": [dl.flatten()]})["architecture"] == [dl.flatten()]


def test_bad_layer_calls_are_dlstat_errors_naming_the_fix():
    for args, words in [(("lstm_x", [""], [8.0]), "no layer 'lstm_x'"),
                        (("resolve", [], []), "no layer 'resolve'"),
                        (("__import__", [""], ["os"]), "no layer"),
                        (("dense", ["unit"], [3.0]), "dense(units, activation = 'relu')"),
                        (("dense", [""], [float("nan")]), "NA"),
                        (("dense", [""], [0.0]), "positive whole"),
                        (("conv2d", ["", ""], [8.0, [3.0, 3.0, 3.0]]), "kernel_size")]:
        res = rbridge.rcall("layer", *args)
        assert not res["ok"] and res["dlstat"], res
        assert words.replace("'", '"') in res["message"], res["message"]


def test_a_layer_spec_r_cannot_read_is_refused():
    bad = {"__dlstat__": "layer", "spec": {"kind": "teleport"}}
    with pytest.raises(OptionTypeError, match="cannot read"):
        options_from_r({"architecture": [bad]})
