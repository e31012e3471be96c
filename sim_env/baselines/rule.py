"""The rule-based controller a plant engineer would write: thresholds on levels and prices.

Rules (levels are fractions of capacity, prices in EUR/MWh):

1. Heat to the fish farm and the digester: always ask for their full demand (the store
   clips to what it holds; the rest is backup heat).
2. Electrolyser: on at rated power while the electricity it burns per kg H2 costs less than
   the H2 and O2 it yields: ``(price + fee) · kWh/kg < 1000 · (H2 price + O2 price · O2/H2)``
   (O2 counts while the fish need it); off otherwise.
3. Oxygen: route all electrolyser O2 to the fish (the twin caps it at their demand).
4. CHP: on at rated power while the gas holder is above 50 %, or above 20 % when the price
   is above the day-ahead mean; off below 20 %.
5. Upgrader: takes the biogas the CHP leaves, proportionally as the holder rises from 40 %
   to 80 %.
6. Flare: only when the holder is above 95 %.
7. Heat pump: fills the store from 40 % (off above 60 %, linearly between), and stays off
   when the price is above 1.5 × the day-ahead mean unless the store is below 20 %.
8. Water: reuse the most the permit allows; treat as much as is reused, and at capacity
   when the tank is below 50 %.
"""

from __future__ import annotations

import numpy as np

from .. import params as q
from ..evaluate import EnvInfo, StepInfo


class RuleStrategy:
    """The documented rules above.

    :param chp_on_level: holder level above which the CHP runs regardless of price
    :param chp_min_level: holder level below which the CHP stops
    :param store_low: heat-store level below which the heat pump runs at full heat
    :param store_high: heat-store level above which the heat pump stops
    """

    name = "rule"

    def __init__(self, chp_on_level: float = 0.5, chp_min_level: float = 0.2, store_low: float = 0.4, store_high: float = 0.6):
        self.chp_on_level = chp_on_level
        self.chp_min_level = chp_min_level
        self.store_low = store_low
        self.store_high = store_high
        self._p = np.zeros(q.N_PARAMS)
        self._h = 0

    def reset(self, env_info: EnvInfo) -> None:
        self._p = env_info.params
        self._h = env_info.forecast_steps

    def act(self, obs: np.ndarray, info: StepInfo) -> np.ndarray:
        p, h = self._p, self._h
        gas, heat, tank = float(obs[0]), float(obs[1]), float(obs[2])
        prices = obs[4 : 5 + h] * 100.0
        price, mean = float(prices[0]), float(prices.mean())
        a = np.zeros(q.N_ACTIONS)
        a[q.A_HEAT_RAS] = a[q.A_HEAT_DIG] = a[q.A_O2] = 1.0
        o2_value = p[q.P_O2_PRICE] * p[q.P_ELY_O2_RATIO] if p[q.P_X_O2] > 0 else 0.0
        breakeven = 1000.0 * (p[q.P_H2_PRICE] + o2_value) / p[q.P_ELY_KWH_KG] if p[q.P_ELY_KWH_KG] > 0 else 0.0
        a[q.A_ELY] = 1.0 if price + p[q.P_GRID_FEE] < breakeven else 0.0
        a[q.A_CHP] = 1.0 if gas > self.chp_on_level or (gas > self.chp_min_level and price > mean) else 0.0
        a[q.A_UPG] = float(np.clip((gas - 0.4) / 0.4, 0.0, 1.0))
        a[q.A_FLARE] = 1.0 if gas > 0.95 else 0.0
        a[q.A_HP] = float(np.clip((self.store_high - heat) / (self.store_high - self.store_low), 0.0, 1.0))
        if price > 1.5 * mean and heat > 0.2:
            a[q.A_HP] = 0.0
        a[q.A_REUSE] = 1.0
        reuse_m3h = p[q.P_REUSE_CAP]
        a[q.A_TREAT] = 1.0 if tank < 0.5 else (reuse_m3h / p[q.P_WT_CAP] if p[q.P_WT_CAP] > 0 else 0.0)
        return a
