"""``aisym match --simulate``'s table fits a 100-column terminal (issue 23 item 5), as the match
table does; each candidate's other figures follow on lines of their own."""

from __future__ import annotations

from sim_env.match import simulate_cli


def _row(rank: int, supplier: str, receiver: str, net: float) -> dict:
    return {"rank": rank, "id": f"c{rank:03d}_{supplier}_{receiver}", "match_rank": rank, "supplier": supplier,
            "receiver": receiver, "conversion": "heat pump", "saved_per_year": net + 1e5, "net_per_year": net,
            "investment": 46_100_109.0, "co2_avoided_t_per_year": -209.2, "residues_diverted_t_per_year": 50.0,
            "water_saved_m3_per_year": -121_463.0, "efficiency_gain": 0.25,
            "matchmaking": {"benefit_per_year": 46_336_702.0}}


def test_the_simulated_table_fits_100_columns_with_readable_amounts(capsys):
    data = {"park": "kalundborg", "currency": "DKK", "hours_simulated": 168.0,
            "timings": {"seconds": 0.9, "candidate_years_per_min": 9.0},
            "ranking": [_row(1, "kalundborg_wastewater_plant", "kalundborg_district_heating", -3_169_720.0),
                        _row(2, "bakery", "kalundborg_bioenergi", 18_795.14)],
            "not_simulated": [], "best_set": [], "shapley": []}
    simulate_cli._table(data)
    out = capsys.readouterr().out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "-3.17 M DKK" in out and "46.1 M DKK" in out and "-209 t" in out and "-121 k m³" in out
    assert "18.8 k DKK" in out and "matchmaking's estimate 46.3 M DKK/yr" in out and "+25.00 points" in out
