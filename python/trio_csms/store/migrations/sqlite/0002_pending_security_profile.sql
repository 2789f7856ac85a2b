-- A05 (TC_A_19): the security profile a station was told to move to with an Accepted
-- SetNetworkProfile; it becomes its registered profile once it connects on it.
ALTER TABLE stations ADD COLUMN pending_security_profile INTEGER;
