"""Device profiles: every data type in every byte/word order, merging, and located errors."""

from __future__ import annotations

import struct

import pytest
from pymodbus.client import ModbusTcpClient

from edge.profiles import (
    WIDTH,
    ConfigError,
    Register,
    decode,
    encode,
    load_profile,
    parse_profile,
    plan_reads,
    shipped_profiles,
)

# (type, struct code, sample values covering sign, extremes and fractions)
CASES = [
    ("int16", "h", [-32768, -1, 0, 12345, 32767]),
    ("uint16", "H", [0, 1, 40000, 65535]),
    ("int32", "i", [-(2**31), -123456, 0, 2**31 - 1]),
    ("uint32", "I", [0, 70000, 2**32 - 1]),
    ("int64", "q", [-(2**63), -5, 2**40 + 3, 2**53]),
    ("uint64", "Q", [0, 2**53, 2**63 + 2**12]),
    ("float32", "f", [-1.5, 0.0, 3.25, 1e-3, 65504.0]),
    ("float64", "d", [-1e300, 0.1, 2.0**-30, 12345.6789]),
]
ORDERS = [("big", "big"), ("big", "little"), ("little", "big"), ("little", "little")]  # (byte, word)


def wire_words(value, code: str, byte_order: str, word_order: str) -> list[int]:
    """Registers as a device with this layout puts them on the wire, built from the named layout
    (ABCD, CDAB, BADC, DCBA for 32 bits) independently of edge.profiles."""
    b = struct.pack(">" + code, value)  # A B C D ... most significant byte first
    words = [b[i : i + 2] for i in range(0, len(b), 2)]
    if word_order == "little":
        words.reverse()
    if byte_order == "little":
        words = [w[::-1] for w in words]
    return [int.from_bytes(w, "big") for w in words]


@pytest.mark.parametrize("byte_order,word_order", ORDERS)
@pytest.mark.parametrize("dtype,code,values", CASES)
def test_every_type_and_order_roundtrips(dtype, code, values, byte_order, word_order):
    reg = Register(name="v", fc=3, address=0, type=dtype, byte_order=byte_order, word_order=word_order)
    for v in values:
        words = wire_words(v, code, byte_order, word_order)
        assert len(words) == WIDTH[dtype]
        got = decode(words, reg)
        expect = struct.unpack(">" + code, struct.pack(">" + code, v))[0]  # float32 rounding
        assert got == pytest.approx(expect, rel=1e-12, abs=0), (dtype, v, byte_order, word_order)
        if dtype not in ("int64", "uint64") or abs(v) < 2**53:  # floats carry 53 bits exactly
            assert encode(got, reg) == words


@pytest.mark.parametrize("dtype", ["int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"])
@pytest.mark.parametrize("word_order", ["big", "little"])
def test_matches_pymodbus_conversion(dtype, word_order):
    """Cross-check against pymodbus's own register conversion (word order only: it has no byte swap)."""
    dt = getattr(ModbusTcpClient.DATATYPE, dtype.upper())
    value = 1234.5 if dtype.startswith("float") else 4660
    regs = ModbusTcpClient.convert_to_registers(value, dt, word_order=word_order)
    reg = Register(name="v", fc=4, address=0, type=dtype, word_order=word_order)
    assert decode(regs, reg) == value
    assert encode(value, reg) == regs


def test_bits_scale_offset_and_limits():
    bit = Register(name="run", fc=1, address=3, type="bit", write_fc=5)
    assert decode([1], bit) == 1.0 and encode(1.0, bit) == [1] and encode(0.0, bit) == [0]
    temp = Register(name="t", fc=3, address=0, type="int16", scale=0.1, offset=-40.0, unit="degC")
    assert decode([encode(21.7, temp)[0]], temp) == pytest.approx(21.7)
    assert decode([0xFFFF], temp) == pytest.approx(-40.1)
    with pytest.raises(ValueError, match="outside int16"):
        encode(5000.0, temp)
    nan = Register(name="x", fc=4, address=0, type="float32")
    with pytest.raises(ValueError, match="returned nan"):
        decode(wire_words(float("nan"), "f", "big", "big"), nan)


def test_merging_respects_gaps_function_codes_and_125():
    regs = [Register(name=f"r{i}", fc=4, address=2 * i, type="float32") for i in range(100)]  # 200 contiguous registers
    regs += [Register(name="far", fc=4, address=300, type="uint16"), Register(name="h", fc=3, address=0, type="int32")]
    blocks = plan_reads(regs)
    assert [(b.fc, b.address, b.count) for b in blocks] == [(3, 0, 2), (4, 0, 124), (4, 124, 76), (4, 300, 1)]
    assert all(b.count <= 125 for b in blocks)
    assert sum(len(b.registers) for b in blocks) == len(regs)
    gap = plan_reads([regs[0], Register(name="g", fc=4, address=5, type="uint16")], max_gap=3)
    assert [(b.address, b.count) for b in gap] == [(0, 6)]
    assert len(plan_reads(regs[:10], max_block=8)) == 3  # a device that answers at most 8 registers


def test_shipped_profiles_load_and_cite_a_datasheet():
    profiles = shipped_profiles()
    assert {"eastron_sdm630", "siemens_uh50_modbus", "seeed_sensecap_s_ph_01", "tuf_2000m"} <= set(profiles)
    for p in profiles.values():
        assert p.datasheet, p.id
    sdm = profiles["eastron_sdm630"]
    assert sdm.register("total_active_power").address == 52 and sdm.register("total_active_power").fc == 4
    assert profiles["tuf_2000m"].register("flow_rate").word_order == "little"


R = "manufacturer: x\nmodel: y\nregisters:\n"
BAD = [
    ("registers:\n  - {name: a, fc: 3, address: 0, type: int16}\n", "manufacturer: Field required"),
    (
        "manufacturer: x\nmodel: y\nregisters:\n  - {name: a, fc: 4, address: 0, type: bit}\n",
        "x.yaml:5:5: registers[0]: fc 4 reads registers; type 'bit' needs fc 1 or 2",
    ),
    (
        "manufacturer: x\nmodel: y\nregisters:\n  - {name: a, fc: 3, address: 0, type: float32, write_fc: 6}\n",
        "write_fc 6 writes one register; a float32 takes 2, use write_fc 16",
    ),
    (
        "manufacturer: x\nmodel: y\nregisters:\n  - {name: a, fc: 3, address: 0, type: int24}\n",
        "x.yaml:5:40: registers[0].type: Input should be 'bit', 'int16'",
    ),
    (
        "manufacturer: x\nmodel: y\nregisters:\n  - {name: a, fc: 3, address: 0, type: int16}\n"
        "  - {name: a, fc: 3, address: 1, type: int16}\n",
        "x.yaml:6:12: registers[1].name: 'a' is already defined at registers[0]",
    ),
    (
        "manufacturer: x\nmodel: y\nregisters:\n  - {name: a, fc: 3, adress: 0, type: int16}\n",
        "registers[0].adress: unknown field",
    ),
    ("manufacturer: x\nmodel: y\n  registers: [\n", "YAML syntax"),
    # issue 10, finding 11: overlaps and strict integers
    (
        R + "  - {name: a, fc: 3, address: 10, type: float32}\n"
        "  - {name: b, fc: 3, address: 11, type: int16}\n",
        "x.yaml:6:31: registers[1].address: overlaps registers[0] (a, float32 at 10-11, fc 3)",
    ),
    (
        R + "  - {name: a, fc: 4, address: 0, type: uint64}\n"
        "  - {name: b, fc: 4, address: 3, type: uint32}\n",
        "registers[1].address: overlaps registers[0] (a, uint64 at 0-3, fc 4)",
    ),
    (
        R + "  - {name: a, fc: 3, address: true, type: int16}\n",
        "x.yaml:5:31: registers[0].address: a number is required, not the boolean true",
    ),
    (R + "  - {name: a, fc: true, address: 0, type: int16}\n", "registers[0].fc: a number"),
    ("manufacturer: x\nmodel: y\nmax_block: true\nregisters:\n  - {name: a, fc: 3, address: 0, type: int16}\n", "a number"),
    (R + "  - {name: a, fc: 3, address: 1.0, type: int16}\n", "valid integer"),
    # finding 12: bit fields and device limits
    (
        R + "  - {name: a, fc: 3, address: 0, type: uint16, bits: 0}\n"
        "  - {name: b, fc: 3, address: 0, type: uint16, mask: 0x0003}\n",
        "registers[1].address: overlaps registers[0]",
    ),
    (R + "  - {name: a, fc: 3, address: 0, type: float32, bits: 1}\n", "use fc 3 or 4 and type uint16"),
    (R + "  - {name: a, fc: 3, address: 0, type: uint16, bits: '6-4'}\n", "low first"),
    (R + "  - {name: a, fc: 3, address: 0, type: uint16, bits: 16}\n", "less than or equal to 15"),
    (
        R + "  - {name: a, fc: 3, address: 0, type: uint16, bits: 2, write_fc: 6}\n",
        "a bit field is read-only",
    ),
    (R + "  - {name: a, fc: 3, address: 0, type: int16, max: 85}\n", "needs a write_fc"),
    (
        R + "  - {name: a, fc: 3, address: 0, type: int16, write_fc: 6, min: 85, max: 40}\n",
        "min (85) must be below max (40)",
    ),
]


@pytest.mark.parametrize("body,message", BAD)
def test_bad_profiles_name_file_line_and_field(body, message):
    text = body if body.startswith(("id:", "manufacturer: x\nmodel: y\n  ")) else "id: x\n" + body
    with pytest.raises(ConfigError) as e:
        parse_profile(text, "x.yaml")
    assert message in str(e.value), str(e.value)


def test_profile_id_must_match_file_and_unknown_profile_lists_shipped(tmp_path):
    f = tmp_path / "meter.yaml"
    f.write_text("id: other\nmanufacturer: x\nmodel: y\nregisters:\n  - {name: a, fc: 3, address: 0, type: int16}\n")
    with pytest.raises(ConfigError, match=r"meter\.yaml:1:5: id: id 'other' must equal the file name 'meter'"):
        load_profile(f)
    with pytest.raises(ConfigError, match=r"shipped profiles: .*eastron_sdm630"):
        load_profile("no_such_meter")


def test_bit_fields_share_their_status_word_and_decode_each_field():
    text = (
        "id: x\nmanufacturer: x\nmodel: y\nregisters:\n"
        "  - {name: word, fc: 3, address: 6, type: uint16}\n"
        "  - {name: running, fc: 3, address: 6, type: uint16, bits: 0}\n"
        "  - {name: fault, fc: 3, address: 6, type: uint16, bits: 1}\n"
        "  - {name: mode, fc: 3, address: 6, type: uint16, bits: '4-6'}\n"
        "  - {name: alarm, fc: 3, address: 6, type: uint16, mask: 0x8000}\n"
    )
    prof = parse_profile(text, "x.yaml")
    word = 0b1000_0000_0101_0001  # running, mode 5, alarm; no fault
    got = {r.name: decode([word], r) for r in prof.registers}
    assert got == {"word": float(word), "running": 1.0, "fault": 0.0, "mode": 5.0, "alarm": 1.0}
    (block,) = plan_reads(prof.registers)  # one request for the whole word, however many fields
    assert (block.address, block.count, len(block.registers)) == (6, 1, 5)


def test_shipped_plc_template_has_a_status_word_and_a_heartbeat():
    plc = shipped_profiles()["aisym_site_plc"]
    assert {plc.register(n).field_mask for n in ("pump_running", "pump_fault", "manual_mode")} == {1, 2, 4}
    assert plc.register("heartbeat").stale_after_s == 10
