"""One ISO 15118-20 DC session, message by message (BPT variants included), with the bytes the
iso15118 package's codec writes for each.

The expected hex comes from that codec (EXIficient 1.55 in iso15118 0.31.2, .venv-peer), so these
are byte-exact vectors even where the peer is not installed; tests/exi/test_peer_iso20.py checks
them against the peer again when it is. The values are those of a CHAdeMO car behind the adapter
(400 V pack, 125 A, discharge up to 10 kW) at a bidirectional DC charger.
"""

from __future__ import annotations

from typing import Any

from ccs2chademo.exi import iso20_cm as cm
from ccs2chademo.exi import iso20_dc as dc

SESSION_ID = bytes.fromhex("5a1e0c3d7b29e481")
EVCCID = "WMIV1234567890ABCDEX"
EVSEID = "DE*ABC*E1234567*1"
T0 = 1_700_000_000


def _h(n: int, session_id: bytes = SESSION_ID) -> cm.MessageHeader:
    return cm.MessageHeader(session_id=session_id, time_stamp=T0 + n)


def _r(value: int, exponent: int = 0) -> cm.RationalNumber:
    return cm.RationalNumber(exponent=exponent, value=value)


OK = cm.ResponseCode.OK
FINISHED = cm.Processing.Finished
ONGOING = cm.Processing.Ongoing
STATUS = cm.EVSEStatus(notification_max_delay=0, evse_notification=cm.EvseNotification.ExitStandby)

#: (schema, message, expected hex)
VECTORS: list[tuple[str, Any, str]] = [
    ("iso20-cm", cm.SessionSetupReq(header=_h(0, bytes(8)), evccid=EVCCID),
     "808c040000000000000000080e2cfaa0620b2ba6a4ab1899199a1a9b1b9c1c9820a121a222ac00"),
    ("iso20-cm", cm.SessionSetupRes(header=_h(0), response_code=cm.ResponseCode.OK_NewSessionEstablished,
                                    evseid=EVSEID),
     "8090042d0f061ebd94f240880e2cfaa0620404d1114a905090ca914c4c8ccd0d4d8dca8c40"),
    ("iso20-cm", cm.AuthorizationSetupReq(header=_h(1)),
     "8008042d0f061ebd94f240881e2cfaa062"),
    ("iso20-cm", cm.AuthorizationSetupRes(
        header=_h(1), response_code=OK, authorization_services=[cm.Authorization.EIM],
        certificate_installation_service=False, eim_as_res_authorization_mode=cm.EIM_ASResAuthorizationMode()),
     "800c042d0f061ebd94f240881e2cfaa062000400"),
    ("iso20-cm", cm.AuthorizationReq(header=_h(2), selected_authorization_service=cm.Authorization.EIM,
                                     eim_a_req_authorization_mode=cm.EIM_AReqAuthorizationMode()),
     "8000042d0f061ebd94f240882e2cfaa06200"),
    ("iso20-cm", cm.AuthorizationRes(header=_h(2), response_code=OK, evse_processing=FINISHED),
     "8004042d0f061ebd94f240882e2cfaa0620000"),
    ("iso20-cm", cm.ServiceDiscoveryReq(header=_h(3)),
     "807c042d0f061ebd94f240883e2cfaa06280"),
    ("iso20-cm", cm.ServiceDiscoveryRes(
        header=_h(3), response_code=OK, service_renegotiation_supported=False,
        energy_transfer_service_list=cm.ServiceList(service=[cm.Service(service_id=2, free_service=False),
                                                             cm.Service(service_id=6, free_service=False)])),
     "8080042d0f061ebd94f240883e2cfaa06200000200018050"),
    ("iso20-cm", cm.ServiceDetailReq(header=_h(4), service_id=6),
     "8074042d0f061ebd94f240884e2cfaa0620300"),
    ("iso20-cm", cm.ServiceDetailRes(
        header=_h(4), response_code=OK, service_id=6,
        service_parameter_list=cm.ServiceParameterList(parameter_set=[cm.ParameterSet(parameter_set_id=1, parameter=[
            cm.Parameter(name="Connector", int_value=2),
            cm.Parameter(name="ControlMode", int_value=2),
            cm.Parameter(name="MeasurementMethod", int_value=1),
            cm.Parameter(name="BPTChannel", int_value=1),
            cm.Parameter(name="GeneratorMode", int_value=1),
            cm.Parameter(name="GridCodeIslandingDetectionMethod", int_value=1),
            cm.Parameter(name="MaximumPower", rational_number=_r(11, 3)),
            cm.Parameter(name="DischargeAllowed", bool_value=True),
        ])])),
     "8078042d0f061ebd94f240884e2cfaa0620001800202d0dbdb9b9958dd1bdc980400d436f6e74726f6c4d6f6465601004d359585cdd5c995b595b9d13595d1a1bd9180200c4250544368616e6e656c600803d1d95b995c985d1bdc935bd919580202247726964436f646549736c616e64696e67446574656374696f6e4d6574686f6460080393585e1a5b5d5b541bddd95ca1060160092234b9b1b430b933b2a0b63637bbb2b204500"),
    ("iso20-cm", cm.ServiceSelectionReq(header=_h(5), selected_energy_transfer_service=cm.SelectedService(
        service_id=6, parameter_set_id=1)),
     "8084042d0f061ebd94f240885e2cfaa06201800880"),
    ("iso20-cm", cm.ServiceSelectionRes(header=_h(5), response_code=OK),
     "8088042d0f061ebd94f240885e2cfaa0620000"),
    ("iso20-cm", cm.ScheduleExchangeReq(
        header=_h(7), maximum_supporting_points=1024, dynamic_se_req_control_mode=cm.Dynamic_SEReqControlMode(
            departure_time=7200, minimum_soc=30, target_soc=80, ev_target_energy_request=_r(20, 3),
            ev_maximum_energy_request=_r(30, 3), ev_minimum_energy_request=_r(-5, 3),
            ev_maximum_v2_x_energy_request=_r(10, 3), ev_minimum_v2_x_energy_request=_r(-10, 3))),
     "806c042d0f061ebd94f240887e2cfaa0627e80a03803c14020c05010603c083104020c0280831090"),
    ("iso20-cm", cm.ScheduleExchangeRes(
        header=_h(7), response_code=OK, evse_processing=FINISHED,
        dynamic_se_res_control_mode=cm.Dynamic_SEResControlMode(departure_time=7200, minimum_soc=30)),
     "8070042d0f061ebd94f240887e2cfaa06200021407003c60"),
    ("iso20-cm", cm.ScheduleExchangeReq(
        header=_h(8), maximum_supporting_points=12,
        scheduled_se_req_control_mode=cm.Scheduled_SEReqControlMode(ev_target_energy_request=_r(20, 3))),
     "806c042d0f061ebd94f240888e2cfaa062000490602830"),
    ("iso20-cm", cm.ScheduleExchangeRes(
        header=_h(8), response_code=OK, evse_processing=FINISHED,
        scheduled_se_res_control_mode=cm.Scheduled_SEResControlMode(schedule_tuple=[cm.ScheduleTuple(
            schedule_tuple_id=1,
            charging_schedule=cm.ChargingSchedule(power_schedule=cm.PowerSchedule(
                time_anchor=T0, power_schedule_entries=cm.PowerScheduleEntryList(power_schedule_entry=[
                    cm.PowerScheduleEntry(duration=3600, power=_r(50, 3)),
                    cm.PowerScheduleEntry(duration=82800, power=_r(11, 3))]))),
            discharging_schedule=cm.ChargingSchedule(power_schedule=cm.PowerSchedule(
                time_anchor=T0, power_schedule_entries=cm.PowerScheduleEntryList(power_schedule_entry=[
                    cm.PowerScheduleEntry(duration=86400, power=_r(-10, 3))]))))])),
     "8070042d0f061ebd94f240888e2cfaa0620004004101c59f540c8480e04181910784302841805928101c59f540c84051828418849288"),
    ("iso20-dc", dc.DC_ChargeParameterDiscoveryReq(
        header=_h(6), dc_cpd_req_energy_transfer_mode=dc.DC_CPDReqEnergyTransferMode(
        ev_maximum_charge_power=_r(50, 3), ev_minimum_charge_power=_r(0), ev_maximum_charge_current=_r(125),
        ev_minimum_charge_current=_r(0), ev_maximum_voltage=_r(435), ev_minimum_voltage=_r(250), target_soc=80)),
     "803c042d0f061ebd94f240886e2cfaa06288303204000002001f41000000800b30304007d0082800"),
    ("iso20-dc", dc.DC_ChargeParameterDiscoveryReq(
        header=_h(6), dc_cpd_req_energy_transfer_mode=dc.BPT_DC_CPDReqEnergyTransferMode(
        ev_maximum_charge_power=_r(50, 3), ev_minimum_charge_power=_r(0), ev_maximum_charge_current=_r(125),
        ev_minimum_charge_current=_r(0), ev_maximum_voltage=_r(435), ev_minimum_voltage=_r(250),
        ev_maximum_discharge_power=_r(10, 3), ev_minimum_discharge_power=_r(0), ev_maximum_discharge_current=_r(25),
        ev_minimum_discharge_current=_r(0))),
     "803c042d0f061ebd94f240886e2cfaa06208303204000002001f41000000800b30304007d00890601408000004000c82000000"),
    ("iso20-dc", dc.DC_ChargeParameterDiscoveryRes(
        header=_h(6), response_code=OK, dc_cpd_res_energy_transfer_mode=dc.DC_CPDResEnergyTransferMode(
        evse_maximum_charge_power=_r(150, 3), evse_minimum_charge_power=_r(0), evse_maximum_charge_current=_r(200),
        evse_minimum_charge_current=_r(0), evse_maximum_voltage=_r(920), evse_minimum_voltage=_r(150),
        evse_power_ramp_limitation=_r(5, 3))),
     "8040042d0f061ebd94f240886e2cfaa0620044184b0082000001001900208000004004c0382002580408300500"),
    ("iso20-dc", dc.DC_ChargeParameterDiscoveryRes(
        header=_h(6), response_code=OK,
        dc_cpd_res_energy_transfer_mode=dc.BPT_DC_CPDResEnergyTransferMode(
        evse_maximum_charge_power=_r(11, 3), evse_minimum_charge_power=_r(0), evse_maximum_charge_current=_r(30),
        evse_minimum_charge_current=_r(0), evse_maximum_voltage=_r(500), evse_minimum_voltage=_r(150),
        evse_maximum_discharge_power=_r(11, 3), evse_minimum_discharge_power=_r(0),
        evse_maximum_discharge_current=_r(30), evse_minimum_discharge_current=_r(0))),
     "8040042d0f061ebd94f240886e2cfaa06200041805820000010003c08000004007a0182002580448300b04000002000781000000"),
    ("iso20-dc", dc.DC_CableCheckReq(header=_h(9)),
     "802c042d0f061ebd94f240889e2cfaa062"),
    ("iso20-dc", dc.DC_CableCheckRes(header=_h(9), response_code=OK, evse_processing=ONGOING),
     "8030042d0f061ebd94f240889e2cfaa0620010"),
    ("iso20-dc", dc.DC_PreChargeReq(header=_h(10), ev_processing=ONGOING, ev_present_voltage=_r(3821, -1),
                                    ev_target_voltage=_r(3821, -1)),
     "8044042d0f061ebd94f24088ae2cfaa06220fe1da3a07f0ed1d0"),
    ("iso20-dc", dc.DC_PreChargeRes(header=_h(10), response_code=OK, evse_present_voltage=_r(3790, -1)),
     "8048042d0f061ebd94f24088ae2cfaa062000fe19c3a00"),
    ("iso20-cm", cm.PowerDeliveryReq(header=_h(11), ev_processing=FINISHED, charge_progress=cm.ChargeProgress.Start,
                                     bpt_channel_selection=cm.ChannelSelection.Discharge),
     "8054042d0f061ebd94f24088be2cfaa0620028"),
    ("iso20-cm", cm.PowerDeliveryRes(header=_h(11), response_code=OK, evse_status=STATUS),
     "8058042d0f061ebd94f24088be2cfaa06200000040"),
    ("iso20-dc", dc.DC_ChargeLoopReq(
        header=_h(12), meter_info_requested=False, ev_present_voltage=_r(3824, -1),
        cl_req_control_mode=dc.Scheduled_DC_CLReqControlMode(ev_target_current=_r(1250, -1),
                                                             ev_target_voltage=_r(4100, -1))),
     "8034042d0f061ebd94f24088ce2cfaa06280fe1e03a463f8710481fc21080a"),
    ("iso20-dc", dc.DC_ChargeLoopReq(
        header=_h(13), display_parameters=dc.DisplayParameters(present_soc=55, target_soc=80, charging_complete=False),
        meter_info_requested=True, ev_present_voltage=_r(3824, -1),
        cl_req_control_mode=dc.BPT_Scheduled_DC_CLReqControlMode(
            ev_target_current=_r(-250, -1), ev_target_voltage=_r(4100, -1), ev_maximum_discharge_power=_r(10, 3),
            ev_maximum_discharge_current=_r(25))),
     "8034042d0f061ebd94f24088de2cfaa06201b85408220fe1e03a163f8fc8081fc21080520c0284800190"),
    ("iso20-dc", dc.DC_ChargeLoopReq(
        header=_h(14), meter_info_requested=False, ev_present_voltage=_r(3824, -1),
        cl_req_control_mode=dc.Dynamic_DC_CLReqControlMode(
            departure_time=7200, ev_target_energy_request=_r(20, 3), ev_maximum_energy_request=_r(30, 3),
            ev_minimum_energy_request=_r(-5, 3), ev_maximum_charge_power=_r(50, 3), ev_minimum_charge_power=_r(0),
            ev_maximum_charge_current=_r(125), ev_maximum_voltage=_r(435), ev_minimum_voltage=_r(250))),
     "8034042d0f061ebd94f24088ee2cfaa06280fe1e03a31407010602808301e041882020c0c810000008007d0400598182003e8040"),
    ("iso20-dc", dc.DC_ChargeLoopReq(
        header=_h(15), display_parameters=dc.DisplayParameters(present_soc=54, minimum_soc=30),
        meter_info_requested=False, ev_present_voltage=_r(3811, -1),
        cl_req_control_mode=dc.BPT_Dynamic_DC_CLReqControlMode(
            ev_target_energy_request=_r(20, 3), ev_maximum_energy_request=_r(30, 3),
            ev_minimum_energy_request=_r(-5, 3), ev_maximum_charge_power=_r(50, 3), ev_minimum_charge_power=_r(0),
            ev_maximum_charge_current=_r(125), ev_maximum_voltage=_r(435), ev_minimum_voltage=_r(250),
            ev_maximum_discharge_power=_r(10, 3), ev_minimum_discharge_power=_r(0),
            ev_maximum_discharge_current=_r(25), ev_maximum_v2_x_energy_request=_r(10, 3),
            ev_minimum_v2_x_energy_request=_r(-10, 3))),
     "8034042d0f061ebd94f24088fe2cfaa06201b0079001fc38c74090602808301e041882020c0c810000008007d0400598182003e80410601408000004000c8106014041884800"),
    ("iso20-dc", dc.DC_ChargeLoopRes(
        header=_h(12), response_code=OK, evse_present_current=_r(1248, -1), evse_present_voltage=_r(3826, -1),
        evse_power_limit_achieved=False, evse_current_limit_achieved=False, evse_voltage_limit_achieved=False,
        cl_res_control_mode=dc.Scheduled_DC_CLResControlMode(evse_maximum_charge_power=_r(150, 3))),
     "8038042d0f061ebd94f24088ce2cfaa0620063f8700481fc3c874000808309601180"),
    ("iso20-dc", dc.DC_ChargeLoopRes(
        header=_h(13), response_code=OK, evse_status=STATUS,
        meter_info=cm.MeterInfo(meter_id="METER-1", charged_energy_reading_wh=1520,
                                bpt_discharged_energy_reading_wh=310),
        evse_present_current=_r(-249, -1), evse_present_voltage=_r(3822, -1), evse_power_limit_achieved=False,
        evse_current_limit_achieved=True, evse_voltage_limit_achieved=False,
        cl_res_control_mode=dc.BPT_Scheduled_DC_CLResControlMode(
            evse_maximum_discharge_power=_r(11, 3), evse_maximum_discharge_current=_r(30))),
     "8038042d0f061ebd94f24088de2cfaa0620000002004a6a2aa22a916988f00b05b012a3f8fc0081fc3b8740202841805848001e100"),
    ("iso20-dc", dc.DC_ChargeLoopRes(
        header=_h(14), response_code=OK, evse_present_current=_r(1250, -1), evse_present_voltage=_r(3826, -1),
        evse_power_limit_achieved=False, evse_current_limit_achieved=False, evse_voltage_limit_achieved=False,
        cl_res_control_mode=dc.Dynamic_DC_CLResControlMode(
            departure_time=7100, ack_max_delay=30, evse_maximum_charge_power=_r(150, 3),
            evse_minimum_charge_power=_r(0), evse_maximum_charge_current=_r(200), evse_maximum_voltage=_r(920))),
     "8038042d0f061ebd94f24088ee2cfaa0620063f8710481fc3c87400061786e41e083096010400000200320041001300e00"),
    ("iso20-dc", dc.DC_ChargeLoopRes(
        header=_h(15), response_code=OK, evse_present_current=_r(-250, -1), evse_present_voltage=_r(3812, -1),
        evse_power_limit_achieved=True, evse_current_limit_achieved=False, evse_voltage_limit_achieved=False,
        cl_res_control_mode=dc.BPT_Dynamic_DC_CLResControlMode(
            evse_maximum_charge_power=_r(11, 3), evse_minimum_charge_power=_r(0), evse_maximum_charge_current=_r(30),
            evse_maximum_voltage=_r(500), evse_maximum_discharge_power=_r(11, 3), evse_minimum_discharge_power=_r(0),
            evse_maximum_discharge_current=_r(30), evse_minimum_voltage=_r(150))),
     "8038042d0f061ebd94f24088fe2cfaa0620063f8fc8081fc39074200108300b04000002000781001e80608300b040000020007810012c020"),
    ("iso20-cm", cm.PowerDeliveryReq(header=_h(16), ev_processing=FINISHED, charge_progress=cm.ChargeProgress.Stop),
     "8054042d0f061ebd94f240890e2cfaa0620140"),
    ("iso20-cm", cm.PowerDeliveryRes(header=_h(16), response_code=OK),
     "8058042d0f061ebd94f240890e2cfaa0620040"),
    ("iso20-dc", dc.DC_WeldingDetectionReq(header=_h(17), ev_processing=ONGOING),
     "804c042d0f061ebd94f240891e2cfaa06220"),
    ("iso20-dc", dc.DC_WeldingDetectionRes(header=_h(17), response_code=OK, evse_present_voltage=_r(12)),
     "8050042d0f061ebd94f240891e2cfaa0620010001800"),
    ("iso20-cm", cm.SessionStopReq(header=_h(18), charging_session=cm.ChargingSession.Terminate),
     "8094042d0f061ebd94f240892e2cfaa06228"),
    ("iso20-cm", cm.SessionStopRes(header=_h(18), response_code=OK),
     "8098042d0f061ebd94f240892e2cfaa0620000"),
]

#: signed parts as EXI fragments (the common messages' fragment grammar), as the iso15118 codec
#: writes them (it signs these two in fragment mode)
FRAGMENTS: list[tuple[str, Any, str]] = [
    ("PnC_AReqAuthorizationMode", cm.PnC_AReqAuthorizationMode(
        id="id1", gen_challenge=bytes(range(16)), contract_certificate_chain=cm.ContractCertificateChain(
            certificate=b"\x01\x02\x03", sub_certificates=cm.SubCertificates(certificate=[b"\x04\x05"]))),
     "804b815a590c410000102030405060708090a0b0c0d0e0f003010203002040524680"),
    ("OEMProvisioningCertificateChain", cm.SignedCertificateChain(id="id2", certificate=b"\x01\x02\x03"),
     "8040015a590c80301020331a"),
]
