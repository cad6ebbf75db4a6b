{#
  The consent metrics, defined once, as the vendors who coined them publish them (docs/metrics.md). Every mart
  that reports one of them calls its macro, so the same name means the same formula in every mart and source.
  Each takes SQL expressions of counts and gives a double, null when its denominator is 0 or null (a share of
  nothing is no number, not 0).

  - consent rate (Didomi)     = opt-ins / total choices, total choices = opt-ins + opt-outs
        https://support.didomi.io/difference-between-consent-rate-and-addressability-rate
  - opt-in rate (Didomi)      = opt-ins / consents asked (total notices displayed = opt-ins + opt-outs + no choice)
        https://support.didomi.io/cmp-notice-metrics-indicators
  - interaction rate (Usercentrics) = (ACCEPT_ALL + DENY_ALL + SAVE) / CMP_SHOWN
        https://usercentrics.com/docs/web/features/interaction-analytics/dashboards
  - accept rate (Usercentrics) = ACCEPT_ALL / (ACCEPT_ALL + DENY_ALL + SAVE) (same page); consent_daily keeps
        its own accept_rate = accepts / consent views (a contract older than these definitions, docs/metrics.md)
#}

{# numerator / denominator as a double; null when the denominator is 0 or null #}
{% macro share_of(numerator, denominator) -%}
    case when coalesce({{ denominator }}, 0) = 0 then null
    else cast({{ numerator }} as {{ type_double() }}) / ({{ denominator }}) end
{%- endmacro %}

{% macro consent_rate(opt_ins, opt_outs) -%}
    {{ share_of(opt_ins, '(' ~ opt_ins ~ ') + (' ~ opt_outs ~ ')') }}
{%- endmacro %}

{% macro opt_in_rate(opt_ins, notices_displayed) -%}
    {{ share_of(opt_ins, notices_displayed) }}
{%- endmacro %}

{% macro interaction_rate(interactions, cmp_shown) -%}
    {{ share_of(interactions, cmp_shown) }}
{%- endmacro %}

{% macro accept_all_rate(accept_all, interactions) -%}
    {{ share_of(accept_all, interactions) }}
{%- endmacro %}
