{#
  Per domain and TCF id (purpose or vendor): profiles = decoded TC strings on the domain,
  consenting_profiles = those whose `consented` list has the id, consent_rate = their share.
  The ids listed are those any decoded profile of the domain names, by consent or legitimate interest.
#}
{% macro tcf_consent(consented, legitimate_interest, id_column) %}
with profiles as (
    select * from {{ ref('_tcf_profiles') }}
),

consents as (
    {{ ids_of('profiles', consented, ['domain', 'profile_id']) }}
),

named as (
    select domain, id from consents
    union
    select domain, id from ({{ ids_of('profiles', legitimate_interest, ['domain', 'profile_id']) }}) as interests
),

per_domain as (
    select domain, count(*) as profiles from profiles group by domain
),

consenting as (
    select domain, id, count(distinct profile_id) as consenting_profiles from consents group by domain, id
)

select
    named.domain,
    named.id as {{ id_column }},
    per_domain.profiles,
    coalesce(consenting.consenting_profiles, 0) as consenting_profiles,
    cast(coalesce(consenting.consenting_profiles, 0) as {{ type_double() }}) / per_domain.profiles as consent_rate
from named
join per_domain on per_domain.domain = named.domain
left join consenting on consenting.domain = named.domain and consenting.id = named.id
{% endmacro %}
