-- An enrolment deadline (core.Account.RequireMFAFrom): where require_mfa is
-- set, users without MFA may postpone its set-up until this time (Unix
-- nanoseconds, UTC); 0 is none, MFA is required at once.
ALTER TABLE accounts ADD COLUMN require_mfa_from INTEGER NOT NULL DEFAULT 0;
