{{ config(enabled=var('consent_taps_gravito_enabled', true) or var('consent_taps_didomi_enabled', true)) }}
{#
  TCF consent per source, day a choice was made (Gravito: the TC string's LastUpdated; Didomi: the user's
  updated_at; UTC day), domain, kind (purpose or vendor) and id: profiles = the domain's profiles whose latest
  choice was that day, consenting_profiles = those that consented to the id. The ids listed per domain are those
  of tcf_purpose_consent / tcf_vendor_consent. Summed over all days, the counts equal those marts' (a profile
  without a choice day is left out). The report compares one period with the previous one.
#}
with profiles as (
    select * from {{ ref('_tcf_profiles') }} where choice_date is not null
),

choices as (
    select * from {{ ref('_tcf_choices') }}
),

days as (
    select source, domain, choice_date, count(*) as profiles
    from profiles
    group by source, domain, choice_date
),

named as (
    select distinct source, domain, kind, tcf_id from choices
),

consenting as (
    select choices.source, choices.domain, profiles.choice_date, choices.kind, choices.tcf_id,
        count(distinct choices.profile_id) as consenting_profiles
    from choices
    join profiles
        on profiles.source = choices.source and profiles.domain = choices.domain
        and profiles.profile_id = choices.profile_id
    where choices.consented
    group by choices.source, choices.domain, profiles.choice_date, choices.kind, choices.tcf_id
)

select
    days.source,
    days.choice_date,
    days.domain,
    named.kind,
    named.tcf_id,
    days.profiles,
    coalesce(consenting.consenting_profiles, 0) as consenting_profiles
from days
join named on named.source = days.source and named.domain = days.domain
left join consenting
    on consenting.source = days.source and consenting.domain = days.domain
    and consenting.choice_date = days.choice_date and consenting.kind = named.kind
    and consenting.tcf_id = named.tcf_id
