{{ config(enabled=var('consent_taps_gravito_enabled', true)) }}
{#
  TCF consent per day a choice was made (the TC string's LastUpdated, UTC day), domain, kind
  (purpose or vendor) and id: profiles = decoded TC strings of the domain last updated that day,
  consenting_profiles = those that consented to the id. The ids listed per domain are those of
  tcf_purpose_consent / tcf_vendor_consent. Summed over all days, the counts equal those marts'
  (a TC string without LastUpdated is left out). The report compares one period with the previous one.
#}
{% set kinds = {
    'purpose': ('purposes_consented', 'purposes_legitimate_interest'),
    'vendor': ('vendors_consented', 'vendors_legitimate_interest'),
} %}
with profiles as (
    select
        domain,
        profile_id,
        cast(last_updated as date) as choice_date,
        purposes_consented,
        purposes_legitimate_interest,
        vendors_consented,
        vendors_legitimate_interest
    from {{ ref('stg_gravito__tcf_consents') }}
    where tc_string is not null and decode_error is null and last_updated is not null
),

days as (
    select domain, choice_date, count(*) as profiles
    from profiles
    group by domain, choice_date
),
{% for kind, lists in kinds.items() %}
{{ kind }}_consents as (
    {{ ids_of('profiles', lists[0], ['domain', 'profile_id', 'choice_date']) }}
),

{{ kind }}_named as (
    select domain, id from {{ kind }}_consents
    union
    select domain, id from ({{ ids_of('profiles', lists[1], ['domain', 'profile_id']) }}) as interests
),

{{ kind }}_rows as (
    select
        days.choice_date,
        days.domain,
        '{{ kind }}' as kind,
        named.id as tcf_id,
        days.profiles,
        count(distinct consents.profile_id) as consenting_profiles
    from days
    join {{ kind }}_named as named on named.domain = days.domain
    left join {{ kind }}_consents as consents
        on consents.domain = days.domain and consents.choice_date = days.choice_date and consents.id = named.id
    group by days.choice_date, days.domain, named.id, days.profiles
){{ "," if not loop.last }}
{% endfor %}
select * from purpose_rows
union all
select * from vendor_rows
