"""Facts about the grammar builder from docs/spec/exi.md §4 and §6."""

from __future__ import annotations

from ccs2chademo.exi import apphand, din, iso2, xmldsig

from .grammar_model import grammar, production_names

DIN_BODY = ["BodyElement", "CableCheckReq", "CableCheckRes", "CertificateInstallationReq",
            "CertificateInstallationRes", "CertificateUpdateReq", "CertificateUpdateRes",
            "ChargeParameterDiscoveryReq", "ChargeParameterDiscoveryRes", "ChargingStatusReq", "ChargingStatusRes",
            "ContractAuthenticationReq", "ContractAuthenticationRes", "CurrentDemandReq", "CurrentDemandRes",
            "MeteringReceiptReq", "MeteringReceiptRes", "PaymentDetailsReq", "PaymentDetailsRes",
            "PowerDeliveryReq", "PowerDeliveryRes", "PreChargeReq", "PreChargeRes", "ServiceDetailReq",
            "ServiceDetailRes", "ServiceDiscoveryReq", "ServiceDiscoveryRes", "ServicePaymentSelectionReq",
            "ServicePaymentSelectionRes", "SessionSetupReq", "SessionSetupRes", "SessionStopReq", "SessionStopRes",
            "WeldingDetectionReq", "WeldingDetectionRes", "EE"]
ISO2_BODY = ["AuthorizationReq", "AuthorizationRes", "BodyElement", "CableCheckReq", "CableCheckRes",
             "CertificateInstallationReq", "CertificateInstallationRes", "CertificateUpdateReq",
             "CertificateUpdateRes", "ChargeParameterDiscoveryReq", "ChargeParameterDiscoveryRes",
             "ChargingStatusReq", "ChargingStatusRes", "CurrentDemandReq", "CurrentDemandRes", "MeteringReceiptReq",
             "MeteringReceiptRes", "PaymentDetailsReq", "PaymentDetailsRes", "PaymentServiceSelectionReq",
             "PaymentServiceSelectionRes", "PowerDeliveryReq", "PowerDeliveryRes", "PreChargeReq", "PreChargeRes",
             "ServiceDetailReq", "ServiceDetailRes", "ServiceDiscoveryReq", "ServiceDiscoveryRes", "SessionSetupReq",
             "SessionSetupRes", "SessionStopReq", "SessionStopRes", "WeldingDetectionReq", "WeldingDetectionRes",
             "EE"]


def test_document_grammars() -> None:
    assert (din.DOCUMENT_CODE_BITS, len(din.DOCUMENT_GLOBALS), din.DOCUMENT_GLOBALS.index("V2G_Message")) == (7, 81, 77)
    assert (iso2.DOCUMENT_CODE_BITS, len(iso2.DOCUMENT_GLOBALS), iso2.DOCUMENT_GLOBALS.index("V2G_Message")) == (
        7, 80, 76)
    assert apphand.DOCUMENT_CODE_BITS == 2
    assert apphand.DOCUMENT_GLOBALS == ("supportedAppProtocolReq", "supportedAppProtocolRes")


def test_fragment_grammars() -> None:
    assert (iso2.FRAGMENT_CODE_BITS, len(iso2.FRAGMENT_ELEMENTS)) == (8, 243)
    assert iso2.FRAGMENT_ELEMENTS.index("AuthorizationReq") == 4
    assert xmldsig.FRAGMENT_ELEMENTS.index("SignedInfo") == 32 and xmldsig.FRAGMENT_CODE_BITS == 6


def test_din_body_substitution_group() -> None:
    g = grammar("din", "Body")
    assert production_names(g, 0) == DIN_BODY and g.width(0) == 6
    assert DIN_BODY.index("CurrentDemandReq") == 13 and DIN_BODY.index("SessionSetupReq") == 29


def test_iso2_body_lists_the_abstract_head() -> None:
    g = grammar("iso2", "Body")
    assert production_names(g, 0) == ISO2_BODY and g.width(0) == 6
    status = grammar("iso2", "PowerDeliveryRes")
    after_code = next(s for s in range(len(status.prods))
                      if production_names(status, s) == ["AC_EVSEStatus", "DC_EVSEStatus", "EVSEStatus"])
    assert status.width(after_code) == 2


def test_strict_false_widths() -> None:
    header = grammar("din", "MessageHeader")
    assert production_names(header, 0) == ["SessionID"] and header.width(0) == 1
    assert production_names(header, 1) == ["Notification", "Signature", "EE"] and header.width(1) == 2


def test_iso2_payment_option_unrolled() -> None:
    g = grammar("iso2", "PaymentOptionList")
    assert [g.width(s) for s in range(len(g.prods))] == [1, 2, 1]
    assert [production_names(g, s) for s in range(3)] == [["PaymentOption"], ["PaymentOption", "EE"], ["EE"]]


def test_sap_app_protocol_unrolled() -> None:
    g = grammar("apphand", "SupportedAppProtocolReq")
    assert len(g.prods) == 21
    assert g.width(0) == 1 and all(g.width(s) == 2 for s in range(1, 20)) and g.width(20) == 1
    assert production_names(g, 20) == ["EE"]


def test_din_payment_option_loop() -> None:
    g = grammar("din", "PaymentOptions")
    assert production_names(g, 0) == ["PaymentOption"] and g.width(0) == 1
    assert production_names(g, 1) == production_names(g, 2) == ["PaymentOption", "EE"] and g.width(2) == 2
    assert g.prods[2][0][1] == 2  # the unbounded tail loops on itself


def test_din_current_demand_cheat_sheet() -> None:
    req = grammar("din", "CurrentDemandReq")
    widths = {tuple(production_names(req, s)): req.width(s) for s in range(len(req.prods))}
    assert widths[("EVMaximumVoltageLimit", "EVMaximumCurrentLimit", "EVMaximumPowerLimit",
                   "BulkChargingComplete", "ChargingComplete")] == 3
    assert widths[("EVMaximumCurrentLimit", "EVMaximumPowerLimit", "BulkChargingComplete", "ChargingComplete")] == 3
    assert widths[("ChargingComplete",)] == 1
    assert widths[("RemainingTimeToFullSoC", "RemainingTimeToBulkSoC", "EVTargetVoltage")] == 2
    res = grammar("din", "CurrentDemandRes")
    names = [production_names(res, s) for s in range(len(res.prods))]
    assert ["EVSEMaximumVoltageLimit", "EVSEMaximumCurrentLimit", "EVSEMaximumPowerLimit", "EE"] in names
    pv = grammar("din", "PhysicalValue")
    assert [production_names(pv, s) for s in range(len(pv.prods))] == [
        ["Multiplier"], ["Unit", "Value"], ["Value"], ["EE"]]


def test_value_widths() -> None:
    """Enumerations and bounded integers (exi.md §5)."""
    assert (len(din.ResponseCode), len(din.UnitSymbol), len(din.DC_EVSEStatusCode)) == (23, 10, 12)
    assert len(apphand.ResponseCode) == 3
    assert din.UnitSymbol.W_s.name == "W_s"  # "W/s" sanitized
    assert din.ENUM_VALUES[din.UnitSymbol][din.UnitSymbol.W_s] == "W/s"
