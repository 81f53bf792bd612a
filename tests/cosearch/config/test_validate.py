"""Checks of single values: durations (one set of units for --time-limit and the budget's latency), integers."""
import pytest

from cosearch.config import DURATION_UNITS_S, UsageError, parse_budget, parse_duration
from cosearch.config.validate import check_int


def test_durations():
    assert parse_duration("5m") == 300 and parse_duration("90") == 90 and parse_duration("none") is None
    assert parse_duration("1.5h") == 5400 and parse_duration("250ms") == pytest.approx(0.25)
    assert parse_duration(None) is None and parse_duration("0s") is None and parse_duration(30) == 30


@pytest.mark.parametrize("text", ["soon", "-5", "5d", "5 parsecs", "nan"])
def test_bad_durations_name_the_field_and_the_units(text):
    with pytest.raises(UsageError) as info:
        parse_duration(text)
    message = str(info.value)
    assert message.startswith("--time-limit: ") and ", ".join(DURATION_UNITS_S) in message and "\n" not in message


@pytest.mark.parametrize("unit", list(DURATION_UNITS_S))
def test_one_set_of_duration_units(unit):
    """Every unit --time-limit accepts is a unit of the budget's latency, with the same meaning."""
    assert parse_budget(f"area=5mm2,latency<=2{unit}").latency_s == pytest.approx(parse_duration(f"2{unit}"))


def test_check_int():
    assert check_int("--trials", 5, 1, 10) == 5
    for bad in (0, 11, 2.0, True, "3"):
        with pytest.raises(UsageError, match="--trials: must be an integer >= 1 and <= 10"):
            check_int("--trials", bad, 1, 10)


def test_numpy_integers_are_integers():
    import numpy as np

    from cosearch.config import make_settings

    settings = make_settings(trials=np.int64(3), workers=np.int32(1))
    assert settings.trials == 3 and type(settings.trials) is int and type(settings.workers) is int
