# Analog inputs: a 4-20 mA loop across a shunt, or a 0-10 V signal through a divider, read by
# the ADC (`adc.read_u16()` -> 0..65535). Two-point calibration maps raw counts to the
# engineering value; the technician measures two known points (e.g. 4 mA and 20 mA from a loop
# calibrator) and `aisym node build` writes them in config.json.


class Calibration:
    """Linear map from raw ADC counts to the engineering value through two measured points.

    :param raw1: raw counts at the first point
    :param eng1: engineering value at the first point (e.g. 0 for 4 mA on a 0-100 % sensor)
    :param raw2: raw counts at the second point (must differ from raw1)
    :param eng2: engineering value at the second point
    """

    def __init__(self, raw1, eng1, raw2, eng2):
        if raw1 == raw2:
            raise ValueError("calibration points need two different raw values, got %r twice" % raw1)
        self.gain = (eng2 - eng1) / (raw2 - raw1)
        self.offset = eng1 - self.gain * raw1

    def __call__(self, raw):
        return self.offset + self.gain * raw


class AnalogInput:
    """One ADC channel.

    :param adc: object with read_u16() (machine.ADC)
    :param cal: Calibration from counts to the engineering value
    :param signal: "4-20mA" or "0-10V"; with 4-20 mA, a loop under 3.6 mA is broken (NAMUR NE 43)
    :param raw_4ma: raw counts at 4 mA, to detect a broken loop (4-20 mA only)
    :param raw_20ma: raw counts at 20 mA
    :param samples: readings averaged per value (ADC noise on ESP32 is several LSB)
    """

    def __init__(self, adc, cal, signal="4-20mA", raw_4ma=None, raw_20ma=None, samples=8):
        self.adc = adc
        self.cal = cal
        self.signal = signal
        self.samples = samples
        self.low_limit = None
        if signal == "4-20mA" and raw_4ma is not None and raw_20ma is not None:
            per_ma = (raw_20ma - raw_4ma) / 16
            self.low_limit = raw_4ma - 0.4 * per_ma  # 3.6 mA
            self.high_limit = raw_20ma + 1.0 * per_ma  # 21 mA: sensor fault per NE 43

    def raw(self):
        total = 0
        for _ in range(self.samples):
            total += self.adc.read_u16()
        return total / self.samples

    def read(self):
        """Engineering value, or raises OSError for a broken loop / sensor fault."""
        raw = self.raw()
        if self.low_limit is not None and (raw < self.low_limit or raw > self.high_limit):
            raise OSError("4-20 mA loop out of range (raw %d)" % raw)
        return self.cal(raw)
