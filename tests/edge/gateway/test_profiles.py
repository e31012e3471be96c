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
