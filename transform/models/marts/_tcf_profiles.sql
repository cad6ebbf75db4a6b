{{ config(materialized='ephemeral', enabled=var('consent_taps_gravito_enabled', true)) }}
-- The Gravito profiles whose TC string decoded (decode_error null): the denominator of TCF consent rates.
select domain, profile_id, purposes_consented, purposes_legitimate_interest, vendors_consented, vendors_legitimate_interest
from {{ ref('stg_gravito__tcf_consents') }}
where tc_string is not null and decode_error is null
