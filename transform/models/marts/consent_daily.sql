{{ config(enabled=var('consent_taps_consentmanager_enabled', true)) }}
-- Consent-banner outcomes per day, CMP, country and device (consentmanager report type 1, summed over
-- designs, hours, URLs, operating systems and browsers).
with report as (
    select * from {{ ref('stg_consentmanager__cmp_report') }}
),

daily as (
    select
        {{ adapter.quote('date') }},
        cmp_id,
        country,
        device_id,
        sum(page_view) as page_views,
        sum(consent_view) as consent_views,
        sum(consent_accept) as accepts,
        sum(consent_reject) as rejects
    from report
    group by {{ adapter.quote('date') }}, cmp_id, country, device_id
)

select
    {{ adapter.quote('date') }},
    cmp_id,
    country,
    device_id,
    page_views,
    consent_views,
    accepts,
    rejects,
    case when consent_views = 0 then null else cast(accepts as {{ type_double() }}) / consent_views end as accept_rate,
    case when consent_views = 0 then null else cast(rejects as {{ type_double() }}) / consent_views end as reject_rate
from daily
