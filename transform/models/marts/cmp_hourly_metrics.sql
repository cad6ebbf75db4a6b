{{ config(enabled=var('consent_taps_didomi_enabled', true)) }}
{#
  Didomi's CMP hourly metrics (the analytics export), one row per export, partition day, hour, notice, domain,
  country, device type and regulation, with the counts Didomi documents and the metrics derived from them
  (macros/consent_metrics.sql, docs/metrics.md): opt-ins = consents_given + consents_partial (Didomi counts a
  choice that accepts at least one purpose as an opt-in), opt-outs = consents_denied, total choices = their sum,
  no choices = notice_displays - total choices.
#}
select
    export_id,
    partition_date,
    {{ adapter.quote('hour') }},
    cast({{ adapter.quote('hour') }} as date) as {{ adapter.quote('date') }},
    organization_id,
    notice_id,
    domain,
    country,
    device_type,
    regulation,
    pageviews,
    notice_displays,
    consents_given,
    consents_denied,
    consents_partial,
    ui_interactions,
    coalesce(consents_given, 0) + coalesce(consents_partial, 0) as opt_ins,
    coalesce(consents_denied, 0) as opt_outs,
    coalesce(consents_given, 0) + coalesce(consents_partial, 0) + coalesce(consents_denied, 0) as total_choices,
    notice_displays - (coalesce(consents_given, 0) + coalesce(consents_partial, 0) + coalesce(consents_denied, 0))
        as no_choices,
    {{ consent_rate('coalesce(consents_given, 0) + coalesce(consents_partial, 0)', 'coalesce(consents_denied, 0)') }}
        as consent_rate,
    {{ opt_in_rate('coalesce(consents_given, 0) + coalesce(consents_partial, 0)', 'notice_displays') }} as opt_in_rate,
    {{ interaction_rate(
        'coalesce(consents_given, 0) + coalesce(consents_partial, 0) + coalesce(consents_denied, 0)',
        'notice_displays'
    ) }} as interaction_rate
from {{ ref('stg_didomi__cmp_hourly_metrics') }}
