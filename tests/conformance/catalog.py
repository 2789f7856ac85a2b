"""The 131 OCPP 2.0.1 Core test cases for a CSMS (Part 5 Edition 3 with errata 2025-01).

One entry per test case: its id, whether the Core profile makes it Mandatory or Conditional (and
on which optional feature), the Part 6 title and the page of Part 6 where its steps are. Taken
from the team's catalogue (`csms-test-catalog.md`, appendix); the suite has one test per entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal


@dataclass(frozen=True, slots=True)
class TestCase:
    id: str
    status: Literal["M", "C"]
    feature: str  # the optional feature a "C" case depends on; "" for "M"
    title: str
    part6_page: int

    @property
    def test_name(self) -> str:
        """The name of the test function that runs it, e.g. `test_tc_b_01_csms`."""
        return "test_" + self.id.lower()


CORE: Final[tuple[TestCase, ...]] = (
    TestCase(
        "TC_A_01_CSMS", "M", "", "Basic Authentication - Valid username/password combination", 579
    ),
    TestCase(
        "TC_A_02_CSMS",
        "M",
        "",
        "Basic Authentication - Username does not equal ChargingStationId",
        580,
    ),
    TestCase("TC_A_03_CSMS", "M", "", "Basic Authentication - Invalid password", 581),
    TestCase("TC_A_04_CSMS", "M", "", "TLS - server-side certificate - Valid certificate", 582),
    TestCase("TC_A_06_CSMS", "M", "", "TLS - server-side certificate - TLS version too low", 585),
    TestCase(
        "TC_A_09_CSMS",
        "M",
        "",
        "Update Charging Station Password for HTTP Basic Authentication - Accepted",
        591,
    ),
    TestCase(
        "TC_A_10_CSMS",
        "M",
        "",
        "Update Charging Station Password for HTTP Basic Authentication - Rejected",
        592,
    ),
    TestCase("TC_A_19_CSMS", "M", "", "Upgrade Charging Station Security Profile - Accepted", 597),
    TestCase("TC_B_01_CSMS", "M", "", "Cold Boot Charging Station - Accepted", 598),
    TestCase("TC_B_02_CSMS", "C", "C-44", "Cold Boot Charging Station - Pending", 599),
    TestCase("TC_B_06_CSMS", "M", "", "Get Variables - single value", 603),
    TestCase("TC_B_07_CSMS", "C", "C-45", "Get Variables - multiple values", 604),
    TestCase("TC_B_09_CSMS", "M", "", "Set Variables - single value", 606),
    TestCase("TC_B_10_CSMS", "C", "C-46", "Set Variables - multiple values", 607),
    TestCase("TC_B_12_CSMS", "C", "C-17", "Get Base Report - ConfigurationInventory", 608),
    TestCase("TC_B_13_CSMS", "C", "C-50.2", "Get Base Report - FullInventory", 609),
    TestCase(
        "TC_B_20_CSMS",
        "M",
        "",
        "Reset Charging Station - Without ongoing transaction - OnIdle",
        612,
    ),
    TestCase(
        "TC_B_21_CSMS", "M", "", "Reset Charging Station - With Ongoing Transaction - OnIdle", 613
    ),
    TestCase(
        "TC_B_22_CSMS",
        "M",
        "",
        "Reset Charging Station - With Ongoing Transaction - Immediate",
        615,
    ),
    TestCase("TC_B_25_CSMS", "C", "C-13", "Reset EVSE - Without ongoing transaction", 617),
    TestCase("TC_B_26_CSMS", "C", "C-13", "Reset EVSE - With Ongoing Transaction - OnIdle", 618),
    TestCase("TC_B_27_CSMS", "C", "C-13", "Reset EVSE - With Ongoing Transaction - Immediate", 619),
    TestCase(
        "TC_B_30_CSMS",
        "C",
        "C-44 or NOT AQ-6",
        "Cold Boot Charging Station - Pending/Rejected - SecurityError",
        601,
    ),
    TestCase(
        "TC_B_31_CSMS",
        "C",
        "C-44 or NOT AQ-6",
        "Cold Boot Charging Station - Pending/Rejected - TriggerMessage",
        602,
    ),
    TestCase("TC_B_42_CSMS", "M", "", "Set new NetworkConnectionProfile - Accepted", 620),
    TestCase("TC_B_44_CSMS", "M", "", "Set new NetworkConnectionProfile - Failed", 621),
    TestCase(
        "TC_C_02_CSMS", "M", "", "Local start transaction - Authorization Invalid/Unknown", 622
    ),
    TestCase("TC_C_06_CSMS", "M", "", "Local start transaction - Authorization Blocked", 623),
    TestCase("TC_C_07_CSMS", "M", "", "Local start transaction - Authorization Expired", 624),
    TestCase("TC_C_08_CSMS", "M", "", "Authorization through authorization cache - Accepted", 625),
    TestCase("TC_C_20_CSMS", "M", "", "Authorization through authorization cache - Invalid", 626),
    TestCase(
        "TC_C_37_CSMS", "M", "", "Clear Authorization Data in Authorization Cache - Accepted", 627
    ),
    TestCase(
        "TC_C_38_CSMS", "M", "", "Clear Authorization Data in Authorization Cache - Rejected", 628
    ),
    TestCase("TC_C_39_CSMS", "M", "", "Authorization by GroupId - Success", 629),
    TestCase(
        "TC_C_47_CSMS",
        "M",
        "",
        "Stop Transaction with a Master Pass - With UI - All transactions",
        634,
    ),
    TestCase(
        "TC_C_48_CSMS",
        "M",
        "",
        "Stop Transaction with a Master Pass - With UI - With UI - Specific transactions",
        635,
    ),
    TestCase("TC_C_49_CSMS", "M", "", "Stop Transaction with a Master Pass - Without UI", 636),
    TestCase("TC_E_01_CSMS", "M", "", "Start transaction options - PowerPathClosed", 646),
    TestCase("TC_E_02_CSMS", "M", "", "Start transaction options - EnergyTransfer", 648),
    TestCase(
        "TC_E_03_CSMS", "M", "", "Local start transaction - Cable plugin first - Success", 649
    ),
    TestCase(
        "TC_E_04_CSMS", "M", "", "Local start transaction - Authorization first - Success", 650
    ),
    TestCase(
        "TC_E_07_CSMS", "M", "", "Stop transaction options - PowerPathClosed - Local stop", 662
    ),
    TestCase(
        "TC_E_08_CSMS",
        "M",
        "",
        "Stop transaction options - EnergyTransfer stopped - StopAuthorized",
        663,
    ),
    TestCase("TC_E_09_CSMS", "M", "", "Start transaction options - EVConnected", 656),
    TestCase("TC_E_10_CSMS", "M", "", "Start transaction options - Authorized - Local", 657),
    TestCase("TC_E_11_CSMS", "M", "", "Start transaction options - DataSigned", 658),
    TestCase("TC_E_12_CSMS", "M", "", "Start transaction options - ParkingBayOccupied", 660),
    TestCase(
        "TC_E_14_CSMS",
        "M",
        "",
        "Stop transaction options - EVDisconnected - Charging Station side",
        652,
    ),
    TestCase("TC_E_15_CSMS", "M", "", "Stop transaction options - StopAuthorized - Local", 654),
    TestCase(
        "TC_E_16_CSMS", "M", "", "Stop transaction options - Deauthorized - Invalid idToken", 664
    ),
    TestCase(
        "TC_E_17_CSMS", "M", "", "Stop transaction options - Deauthorized - EV side disconnect", 665
    ),
    TestCase("TC_E_19_CSMS", "M", "", "Stop transaction options - ParkingBayUnoccupied", 667),
    TestCase(
        "TC_E_20_CSMS",
        "M",
        "",
        "Stop transaction options - EVDisconnected - EV side (able to charge IEC 61851-1 EV)",
        653,
    ),
    TestCase("TC_E_21_CSMS", "M", "", "Stop transaction options - StopAuthorized - Remote", 655),
    TestCase(
        "TC_E_22_CSMS",
        "M",
        "",
        "Stop transaction options - EnergyTransfer stopped - SuspendedEV",
        666,
    ),
    TestCase("TC_E_26_CSMS", "M", "", "Disconnect cable on EV-side - Suspend transaction", 668),
    TestCase(
        "TC_E_29_CSMS",
        "C",
        "C-16",
        "Check Transaction status - Transaction with id ongoing - with message in queue",
        669,
    ),
    TestCase(
        "TC_E_30_CSMS",
        "C",
        "C-16",
        "Check Transaction status - Transaction with id ongoing - without message in queue",
        670,
    ),
    TestCase(
        "TC_E_31_CSMS",
        "C",
        "C-16",
        "Check Transaction status - Transaction with id ended - with message in queue",
        671,
    ),
    TestCase(
        "TC_E_33_CSMS",
        "C",
        "C-16",
        "Check Transaction status - Without transactionId - with message in queue",
        673,
    ),
    TestCase(
        "TC_E_34_CSMS",
        "C",
        "C-16",
        "Check Transaction status - Without transactionId - without message in queue",
        674,
    ),
    TestCase("TC_E_38_CSMS", "M", "", "Local start transaction - EV not ready", 661),
    TestCase("TC_E_39_CSMS", "M", "", "Stop transaction options - Deauthorized - timeout", 651),
    TestCase(
        "TC_E_53_CSMS",
        "M",
        "",
        "Reset Sequence Number - CSMS accepting seqNo = 0 at start of transaction",
        675,
    ),
    TestCase("TC_F_01_CSMS", "M", "", "Remote start transaction - Cable plugin first", 676),
    TestCase(
        "TC_F_02_CSMS",
        "M",
        "",
        "Remote start transaction - Remote start first - AuthorizeRemoteStart is true",
        677,
    ),
    TestCase(
        "TC_F_03_CSMS",
        "M",
        "",
        "Remote start transaction - Remote start first - AuthorizeRemoteStart is false",
        678,
    ),
    TestCase(
        "TC_F_04_CSMS",
        "M",
        "",
        "Remote start transaction - Remote start first - Cable plugin timeout",
        679,
    ),
    TestCase(
        "TC_F_06_CSMS",
        "C",
        "C-11",
        "Remote unlock Connector - Without ongoing transaction - Accepted",
        680,
    ),
    TestCase("TC_F_11_CSMS", "C", "C-29.1", "Trigger message - MeterValues - Specific EVSE", 681),
    TestCase("TC_F_12_CSMS", "C", "C-29.1", "Trigger message - MeterValues - All EVSE", 682),
    TestCase(
        "TC_F_13_CSMS", "C", "C-29.2", "Trigger message - TransactionEvent - Specific EVSE", 683
    ),
    TestCase("TC_F_14_CSMS", "C", "C-29.2", "Trigger message - TransactionEvent - All EVSE", 684),
    TestCase("TC_F_15_CSMS", "C", "C-29.3", "Trigger message - LogStatusNotification - Idle", 685),
    TestCase(
        "TC_F_18_CSMS", "C", "C-29.4", "Trigger message - FirmwareStatusNotification - Idle", 686
    ),
    TestCase("TC_F_20_CSMS", "M", "", "Trigger message - Heartbeat", 687),
    TestCase(
        "TC_F_23_CSMS",
        "C",
        "C-29.5",
        "Trigger message - StatusNotification - Specific EVSE - Available",
        688,
    ),
    TestCase(
        "TC_F_24_CSMS",
        "C",
        "C-29.5",
        "Trigger message - StatusNotification - Specific EVSE - Occupied",
        689,
    ),
    TestCase("TC_F_27_CSMS", "M", "", "Trigger message - NotImplemented", 691),
    TestCase("TC_G_03_CSMS", "M", "", "Change Availability EVSE - Operative to inoperative", 692),
    TestCase("TC_G_04_CSMS", "M", "", "Change Availability EVSE - Inoperative to operative", 693),
    TestCase(
        "TC_G_05_CSMS",
        "M",
        "",
        "Change Availability Charging Station - Operative to inoperative",
        694,
    ),
    TestCase(
        "TC_G_06_CSMS",
        "M",
        "",
        "Change Availability Charging Station - Inoperative to operative",
        695,
    ),
    TestCase(
        "TC_G_07_CSMS", "M", "", "Change Availability Connector - Operative to inoperative", 696
    ),
    TestCase(
        "TC_G_08_CSMS", "M", "", "Change Availability Connector - Inoperative to operative", 697
    ),
    TestCase("TC_G_11_CSMS", "M", "", "Change Availability EVSE - With ongoing transaction", 698),
    TestCase(
        "TC_G_14_CSMS",
        "M",
        "",
        "Change Availability Charging Station - With ongoing transaction",
        699,
    ),
    TestCase(
        "TC_G_17_CSMS", "M", "", "Change Availability Connector - With ongoing transaction", 700
    ),
    TestCase("TC_G_20_CSMS", "M", "", "Connector status Notification - Lock Failure", 701),
    TestCase("TC_J_01_CSMS", "M", "", "Clock-aligned Meter Values - No transaction ongoing", 716),
    TestCase("TC_J_02_CSMS", "M", "", "Clock-aligned Meter Values - Transaction ongoing", 717),
    TestCase("TC_J_03_CSMS", "M", "", "Clock-aligned Meter Values - EventType Ended", 719),
    TestCase("TC_J_04_CSMS", "M", "", "Clock-aligned Meter Values - Signed", 720),
    TestCase("TC_J_07_CSMS", "M", "", "Sampled Meter Values - EventType Started - EVSE known", 721),
    TestCase(
        "TC_J_08_CSMS",
        "M",
        "",
        "Sampled Meter Values - Context Transaction.Begin - EVSE not known",
        722,
    ),
    TestCase("TC_J_09_CSMS", "M", "", "Sampled Meter Values - EventType Updated", 723),
    TestCase("TC_J_10_CSMS", "M", "", "Sampled Meter Values - EventType Ended", 724),
    TestCase("TC_J_11_CSMS", "M", "", "Sampled Meter Values - Signed", 725),
    TestCase("TC_L_01_CSMS", "M", "", "Secure Firmware Update - Installation successful", 761),
    TestCase("TC_L_02_CSMS", "C", "C-15", "Secure Firmware Update - InstallScheduled", 763),
    TestCase("TC_L_03_CSMS", "C", "C-15", "Secure Firmware Update - DownloadScheduled", 765),
    TestCase("TC_L_04_CSMS", "M", "", "Secure Firmware Update - RevokedCertificate", 767),
    TestCase("TC_L_05_CSMS", "M", "", "Secure Firmware Update - InvalidCertificate", 768),
    TestCase("TC_L_06_CSMS", "M", "", "Secure Firmware Update - InvalidSignature", 769),
    TestCase("TC_L_07_CSMS", "M", "", "Secure Firmware Update - DownloadFailed", 770),
    TestCase("TC_L_08_CSMS", "M", "", "Secure Firmware Update - InstallVerificationFailed", 771),
    TestCase("TC_L_09_CSMS", "M", "", "Secure Firmware Update - InstallationFailed", 772),
    TestCase("TC_L_10_CSMS", "M", "", "Secure Firmware Update - AcceptedCanceled", 774),
    TestCase("TC_L_11_CSMS", "M", "", "Secure Firmware Update - Unable to cancel", 776),
    TestCase(
        "TC_L_13_CSMS",
        "M",
        "",
        "Secure Firmware Update - Unable to download/install firmware with ongoing transaction"
        " - AllowNewSessionsPendingFirmwareUpdate is false",
        778,
    ),
    TestCase("TC_M_01_CSMS", "M", "", "Install CA certificate - CSMSRootCertificate", 787),
    TestCase("TC_M_02_CSMS", "M", "", "Install CA certificate - ManufacturerRootCertificate", 788),
    TestCase("TC_M_05_CSMS", "M", "", "Install CA certificate - Failed", 791),
    TestCase(
        "TC_M_13_CSMS",
        "M",
        "",
        "Retrieve certificates from Charging Station - ManufacturerRootCertificate",
        793,
    ),
    TestCase(
        "TC_M_18_CSMS",
        "M",
        "",
        "Retrieve certificates from Charging Station - All certificateTypes",
        798,
    ),
    TestCase(
        "TC_M_19_CSMS",
        "M",
        "",
        "Retrieve certificates from Charging Station - No matching certificate found",
        799,
    ),
    TestCase(
        "TC_M_20_CSMS", "M", "", "Delete a certificate from a Charging Station - Success", 800
    ),
    TestCase("TC_M_21_CSMS", "M", "", "Delete a certificate from a Charging Station - Failed", 801),
    TestCase("TC_N_25_CSMS", "M", "", "Retrieve Log Information - Diagnostics Log - Success", 817),
    TestCase("TC_N_27_CSMS", "M", "", "Get Customer Information - Accepted + data", 818),
    TestCase("TC_N_28_CSMS", "M", "", "Get Customer Information - Accepted + no data", 819),
    TestCase("TC_N_29_CSMS", "M", "", "Get Customer Information - Not Accepted", 820),
    TestCase("TC_N_30_CSMS", "M", "", "Clear Customer Information - Clear and report + data", 821),
    TestCase(
        "TC_N_31_CSMS", "M", "", "Clear Customer Information - Clear and report + no data", 822
    ),
    TestCase("TC_N_32_CSMS", "M", "", "Clear Customer Information - Clear and no report", 823),
    TestCase("TC_N_34_CSMS", "M", "", "Retrieve Log Information - Rejected", 826),
    TestCase("TC_N_35_CSMS", "M", "", "Retrieve Log Information - Security Log - Success", 827),
    TestCase("TC_N_36_CSMS", "M", "", "Retrieve Log Information - Second Request", 828),
    TestCase(
        "TC_N_62_CSMS",
        "C",
        "C-14",
        "Clear Customer Information - Clear and report - customerIdentifier",
        824,
    ),
    TestCase(
        "TC_P_02_CSMS",
        "M",
        "",
        "Data Transfer to the CSMS - Rejected / Unknown VendorId / Unknown MessageId",
        856,
    ),
    TestCase("TC_P_03_CSMS", "M", "", "CustomData - Receive custom data", 857),
)

BY_TEST_NAME: Final[dict[str, TestCase]] = {case.test_name: case for case in CORE}
