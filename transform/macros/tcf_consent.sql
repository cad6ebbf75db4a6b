{#
  Per source, domain and TCF id of `kind` (purpose or vendor): profiles = the domain's profiles
  (_tcf_profiles), consenting_profiles = those that consented to the id, consent_rate = Didomi's consent
  rate (macros/consent_metrics.sql) with every profile a choice made: opt-ins = consenting profiles, opt-outs =
  the others. The ids listed are those any profile of the domain names (_tcf_choices: by consent or
  legitimate interest for Gravito, enabled or disabled for Didomi).
#}
{% macro tcf_consent(kind, id_column) %}
with profiles as (
    select * from {{ ref('_tcf_profiles') }}
),

choices as (
    select * from {{ ref('_tcf_choices') }} where kind = '{{ kind }}'
),

named as (
    select distinct source, domain, tcf_id from choices
),

per_domain as (
    select source, domain, count(*) as profiles from profiles group by source, domain
),

consenting as (
    select source, domain, tcf_id, count(distinct profile_id) as consenting_profiles
    from choices
    where consented
    group by source, domain, tcf_id
),

counted as (
    select
        named.source,
        named.domain,
        named.tcf_id,
        per_domain.profiles,
        coalesce(consenting.consenting_profiles, 0) as consenting_profiles
    from named
    join per_domain on per_domain.source = named.source and per_domain.domain = named.domain
    left join consenting
        on consenting.source = named.source and consenting.domain = named.domain and consenting.tcf_id = named.tcf_id
)

select
    source,
    domain,
    tcf_id as {{ id_column }},
    profiles,
    consenting_profiles,
    {{ consent_rate('consenting_profiles', 'profiles - consenting_profiles') }} as consent_rate
from counted
{% endmacro %}
