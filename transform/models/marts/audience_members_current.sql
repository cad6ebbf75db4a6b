{{ config(enabled=var('consent_taps_lytics_enabled', true)) }}
-- Members per Lytics audience as of the latest scan: tap_lytics.audience_members holds exactly the
-- latest complete scan (ex-members are deleted by ACTIVATE_VERSION). An audience whose scan found
-- nobody has no row.
select segment_id, count(*) as members
from {{ ref('stg_lytics__audience_members') }}
group by segment_id
