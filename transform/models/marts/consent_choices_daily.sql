{{ config(enabled=var('consent_taps_consentmanager_enabled', true)) }}
-- Consent-banner choices per day, CMP, site, country and device (consentmanager report type 1, summed
-- over designs, hours, operating systems and browsers): accept-all, reject-all and custom (saved a
-- selection), the three ways out of the banner. site = the delivery domain of urlID (report type 16),
-- null while that list is not loaded. consent_daily keeps its columns; this mart adds what the
-- report's consent overview needs besides (custom choices, interactions, the site).
with report as (
    select * from {{ ref('stg_consentmanager__cmp_report') }}
),

domains as (
    select id, domain from {{ ref('stg_consentmanager__delivery_domains') }}
),

daily as (
    select
        report.{{ adapter.quote('date') }},
        report.cmp_id,
        report.url_id,
        report.country,
        report.device_id,
        sum(report.page_view) as page_views,
        sum(report.consent_view) as consent_views,
        sum(report.consent_accept) as accepts,
        sum(report.consent_reject) as rejects,
        sum(coalesce(report.consent_custom, 0)) as custom_choices
    from report
    group by report.{{ adapter.quote('date') }}, report.cmp_id, report.url_id, report.country, report.device_id
)

select
    daily.{{ adapter.quote('date') }},
    daily.cmp_id,
    daily.url_id,
    domains.domain as site,
    daily.country,
    daily.device_id,
    daily.page_views,
    daily.consent_views,
    daily.accepts,
    daily.rejects,
    daily.custom_choices,
    daily.accepts + daily.rejects + daily.custom_choices as interactions
from daily
left join domains on domains.id = daily.url_id
