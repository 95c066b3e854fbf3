"""Long inputs take the decoder's linear-time paths (trimmed bit buffer, block-wise numbers)."""

from __future__ import annotations

import pytest

from ccs2chademo import exi
from ccs2chademo.exi import _bits, din


def test_long_unbounded_list_roundtrips() -> None:
    res = din.ServiceDiscoveryRes(
        response_code=din.ResponseCode.OK,
        payment_options=din.PaymentOptions(payment_option=[din.PaymentOption.ExternalPayment,
                                                           din.PaymentOption.Contract] * 5000),
        charge_service=din.ServiceCharge(
            service_tag=din.ServiceTag(service_id=1, service_category=din.ServiceCategory.EVCharging),
            free_service=False, energy_transfer_type=din.EVSESupportedEnergyTransfer.DC_extended))
    data = exi.encode(din.make_message(bytes(8), res))
    assert len(data) > 5000
    assert exi.decode(data, "din") == din.make_message(bytes(8), res)


def test_long_numbers_and_strings() -> None:
    for x in (2**63, 3**4000, 7**20000):
        a = _bits.enc_uint(1, x)
        nb = a.bit_length() - 1
        assert _bits.dec_uint(a ^ (1 << nb), 0, nb) == (x, nb)
    text = "é€" * 2000 + "x"
    a = _bits.enc_str(1, text)
    nb = a.bit_length() - 1
    assert _bits.dec_str(a ^ (1 << nb), 0, nb) == (text, nb)


def test_long_number_cut_short() -> None:
    a = _bits.enc_uint(1, 5**3000)
    nb = a.bit_length() - 1
    with pytest.raises(exi.ExiDecodeError):  # the block-wise path checks the end itself
        _bits.dec_uint((a ^ (1 << nb)) >> 40, 0, nb - 40)
