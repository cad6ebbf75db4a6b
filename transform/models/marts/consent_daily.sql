{#
  Consent-banner outcomes per source (the CMP vendor), day, CMP or notice, country and device: one accept rate
  across CMPs, and the published metrics (macros/consent_metrics.sql, docs/metrics.md).
  - consentmanager: report type 1 (cmp_report), summed over designs, hours, URLs, operating systems and
    browsers; cmp_id and device_id are its ids (notice_id and device_type null).
  - Didomi: the analytics export's cmp_hourly_metrics, summed over the UTC hours of the day, domains,
    regulations and export ids; notice_id and device_type are its own (cmp_id and device_id null).
    accepts = consents_given (every purpose accepted), rejects = consents_denied, custom_choices =
    consents_partial (some purposes accepted).
  Only the sources this project loads are unioned (a package user turns the others off).
#}
{% set consentmanager = var('consent_taps_consentmanager_enabled', true) %}
{% set didomi = var('consent_taps_didomi_enabled', true) %}
{{ config(enabled=consentmanager or didomi) }}
with
{% if consentmanager -%}
consentmanager as (
    select
        'consentmanager' as source,
        {{ adapter.quote('date') }},
        cmp_id,
        cast(null as {{ dbt.type_string() }}) as notice_id,
        country,
        device_id,
        cast(null as {{ dbt.type_string() }}) as device_type,
        sum(page_view) as page_views,
        sum(consent_view) as consent_views,
        sum(consent_accept) as accepts,
        sum(consent_reject) as rejects,
        sum(coalesce(consent_custom, 0)) as custom_choices
    from {{ ref('stg_consentmanager__cmp_report') }}
    group by {{ adapter.quote('date') }}, cmp_id, country, device_id
),
{%- endif %}

{% if didomi -%}
didomi as (
    select
        'didomi' as source,
        cast({{ adapter.quote('hour') }} as date) as {{ adapter.quote('date') }},
        cast(null as {{ dbt.type_bigint() }}) as cmp_id,
        notice_id,
        country,
        cast(null as {{ dbt.type_bigint() }}) as device_id,
        device_type,
        sum(coalesce(pageviews, 0)) as page_views,
        sum(coalesce(notice_displays, 0)) as consent_views,
        sum(coalesce(consents_given, 0)) as accepts,
        sum(coalesce(consents_denied, 0)) as rejects,
        sum(coalesce(consents_partial, 0)) as custom_choices
    from {{ ref('stg_didomi__cmp_hourly_metrics') }}
    group by cast({{ adapter.quote('hour') }} as date), notice_id, country, device_type
),
{%- endif %}

daily as (
    {%- if consentmanager %}
    select * from consentmanager
    {%- endif %}
    {%- if consentmanager and didomi %}
    union all
    {%- endif %}
    {%- if didomi %}
    select * from didomi
    {%- endif %}
)

select
    source,
    {{ adapter.quote('date') }},
    cmp_id,
    notice_id,
    country,
    device_id,
    device_type,
    page_views,
    consent_views,
    accepts,
    rejects,
    {{ share_of('accepts', 'consent_views') }} as accept_rate,
    {{ share_of('rejects', 'consent_views') }} as reject_rate,
    custom_choices,
    accepts + rejects + custom_choices as interactions,
    accepts + custom_choices as opt_ins,
    {{ consent_rate('accepts + custom_choices', 'rejects') }} as consent_rate,
    {{ opt_in_rate('accepts + custom_choices', 'consent_views') }} as opt_in_rate,
    {{ interaction_rate('accepts + rejects + custom_choices', 'consent_views') }} as interaction_rate
from daily
