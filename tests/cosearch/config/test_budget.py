import pytest

from cosearch.config import Budget, UsageError, parse_budget


@pytest.mark.parametrize("text, expected", [
    ("area=5mm2", Budget(5.0)),
    ("area<=5mm2", Budget(5.0)),
    ("area=2500000um2", Budget(2.5)),
    (" area = 5 MM2 ", Budget(5.0)),
    ("area=5mm2,latency<=10ms", Budget(5.0, latency_s=0.01)),
    ("area=5mm2,energy<=2mJ,power<=500mW", Budget(5.0, energy_j=0.002, power_w=0.5)),
    ("area=5mm2,latency<=250us,energy<=3uJ", Budget(5.0, latency_s=250e-6, energy_j=3e-6)),
    ("area=5mm2,accuracy>=0.76", Budget(5.0, accuracy=0.76)),
    ("area=5mm2,accuracy>=76%", Budget(5.0, accuracy=0.76)),
    ("area=1e1mm2", Budget(10.0)),
])
def test_parses(text, expected):
    got = parse_budget(text)
    for f in ("area_mm2", "latency_s", "energy_j", "power_w", "accuracy"):
        a, b = getattr(got, f), getattr(expected, f)
        assert (a is None and b is None) or a == pytest.approx(b), f


def test_repeated_flags_join():
    b = parse_budget(["area=5mm2", "latency<=10ms,power<=1W"])
    assert (b.area_mm2, b.latency_s, b.power_w) == (5.0, 0.01, 1.0)


def test_describe_round_trips():
    b = parse_budget("area=5mm2,latency<=10ms,energy<=2mJ,power<=500mW,accuracy>=0.76")
    assert parse_budget(b.describe().replace(" ", "")) == b


@pytest.mark.parametrize("text, field", [
    ("area=5", "area"), ("area=5km2", "area"), ("area=-1mm2", "area"), ("area=0mm2", "area"),
    ("latency<=10ms", "area"), ("area=5mm2,latency>=10ms", "latency"), ("area=5mm2,energy<=2mW", "energy"),
    ("area=5mm2,power<=fastW", "power"), ("area=5mm2,accuracy<=0.7", "accuracy"),
    ("area=5mm2,accuracy>=1.5", "accuracy"), ("area=5mm2,,latency<=1ms", "empty"), ("size=5mm2", "size"),
    ("area=5mm2,area=4mm2", "area"), ("", "empty"), ("area", "area"),
])
def test_errors_name_the_field(text, field):
    with pytest.raises(UsageError) as info:
        parse_budget(text)
    message = str(info.value)
    assert field in message and "\n" not in message


def test_errors_list_accepted_units():
    with pytest.raises(UsageError, match="mm2, um2"):
        parse_budget("area=5cm2")
    with pytest.raises(UsageError, match="s, ms, us"):
        parse_budget("area=5mm2,latency<=3d")


def test_violation():
    b = Budget(5.0, latency_s=0.01, energy_j=0.002, power_w=0.5)
    assert b.violation(0.005, 0.001) == 0.0
    assert b.violation(0.02, 0.001) == pytest.approx(1.0)  # twice the latency; power 50 mW is fine
    assert b.violation(0.001, 0.001) == pytest.approx(1.0)  # 1 W average power: twice the limit


def test_unmet_terms_name_the_limits_no_run_meets_with_the_nearest():
    b = Budget(5.0, latency_s=0.01, energy_j=0.002, power_w=0.5)
    assert b.unmet_terms([(0.005, 0.001), (0.02, 0.0001)]) == []           # each term met by some run
    assert b.unmet_terms([(0.004, 0.004), (0.006, 0.003)]) == ["energy<=2mJ (the lowest of 2 designs: 3 mJ)"]
    assert b.unmet_terms([(0.004, 0.004), (0.006, 0.0036)]) == ["energy<=2mJ (the lowest of 2 designs: 3.6 mJ)",
                                                                 "power<=500mW (the lowest of 2 designs: 600 mW)"]
    assert b.unmet_terms([(0.004, 0.004)]) == ["energy<=2mJ (the lowest of 1 design: 4 mJ)",
                                               "power<=500mW (the lowest of 1 design: 1000 mW)"]
    assert Budget(5.0, power_w=1e-30).unmet_terms([(0.01, 0.001), (0.02, 0.001)]) == [
        "power<=1e-27mW (the lowest of 2 designs: 50 mW)"]
    assert Budget(5.0).unmet_terms([(1.0, 1.0)]) == [] and b.unmet_terms([]) == []
