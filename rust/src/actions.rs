//! The 64 OCPP 2.0.1 CALL `Action` names (Part 4 §4.1.6: the message name without "Request").
//!
//! Sorted in byte order, which is also Python's `sorted()` order for these ASCII names, so the
//! frame parser can find an action with a binary search and report it by index. The index is
//! the position in `trio_csms.messages.ACTIONS` (generated from the JSON schemas); a Python unit
//! test checks that the two lists are identical. Knows nothing about payloads or directions.

/// Every OCPP 2.0.1 action name, in byte order.
pub const ACTIONS: [&str; 64] = [
    "Authorize",
    "BootNotification",
    "CancelReservation",
    "CertificateSigned",
    "ChangeAvailability",
    "ClearCache",
    "ClearChargingProfile",
    "ClearDisplayMessage",
    "ClearVariableMonitoring",
    "ClearedChargingLimit",
    "CostUpdated",
    "CustomerInformation",
    "DataTransfer",
    "DeleteCertificate",
    "FirmwareStatusNotification",
    "Get15118EVCertificate",
    "GetBaseReport",
    "GetCertificateStatus",
    "GetChargingProfiles",
    "GetCompositeSchedule",
    "GetDisplayMessages",
    "GetInstalledCertificateIds",
    "GetLocalListVersion",
    "GetLog",
    "GetMonitoringReport",
    "GetReport",
    "GetTransactionStatus",
    "GetVariables",
    "Heartbeat",
    "InstallCertificate",
    "LogStatusNotification",
    "MeterValues",
    "NotifyChargingLimit",
    "NotifyCustomerInformation",
    "NotifyDisplayMessages",
    "NotifyEVChargingNeeds",
    "NotifyEVChargingSchedule",
    "NotifyEvent",
    "NotifyMonitoringReport",
    "NotifyReport",
    "PublishFirmware",
    "PublishFirmwareStatusNotification",
    "ReportChargingProfiles",
    "RequestStartTransaction",
    "RequestStopTransaction",
    "ReservationStatusUpdate",
    "ReserveNow",
    "Reset",
    "SecurityEventNotification",
    "SendLocalList",
    "SetChargingProfile",
    "SetDisplayMessage",
    "SetMonitoringBase",
    "SetMonitoringLevel",
    "SetNetworkProfile",
    "SetVariableMonitoring",
    "SetVariables",
    "SignCertificate",
    "StatusNotification",
    "TransactionEvent",
    "TriggerMessage",
    "UnlockConnector",
    "UnpublishFirmware",
    "UpdateFirmware",
];

/// The index of `name` in [`ACTIONS`], or `None` when it is not an OCPP 2.0.1 action.
/// Case-sensitive (Part 4 §4.2.1: the Action is a case-sensitive string).
#[inline]
#[must_use]
pub fn action_index(name: &str) -> Option<usize> {
    ACTIONS.binary_search(&name).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_and_unique() {
        assert!(ACTIONS
            .windows(2)
            .all(|w| w[0].as_bytes() < w[1].as_bytes()));
    }

    #[test]
    fn finds_every_action_by_its_index() {
        for (i, name) in ACTIONS.iter().enumerate() {
            assert_eq!(action_index(name), Some(i));
        }
    }

    #[test]
    fn lookup_is_exact_and_case_sensitive() {
        assert_eq!(action_index("heartbeat"), None);
        assert_eq!(action_index("Heartbeat "), None);
        assert_eq!(action_index("HeartbeatRequest"), None);
        assert_eq!(action_index(""), None);
    }
}
