{#
  The profiles behind the TCF marts, one row per source, domain and profile: the denominator of their consent
  rates. choice_date = the UTC day of the profile's latest choice (null when unknown).
  - Gravito: the profiles whose TC string decoded (decode_error null); choice_date = the string's LastUpdated.
  - Didomi: the users of the batch export (export_users), each once, as of its latest export; domain = the
    organization (a Didomi user's consents hold across the organization's properties); choice_date = the
    user's updated_at.
#}
{% set gravito = var('consent_taps_gravito_enabled', true) %}
{% set didomi = var('consent_taps_didomi_enabled', true) %}
{{ config(materialized='ephemeral', enabled=gravito or didomi) }}
{%- if gravito %}
select 'gravito' as source, domain, profile_id, cast(last_updated as date) as choice_date
from {{ ref('stg_gravito__tcf_consents') }}
where tc_string is not null and decode_error is null
{%- endif %}
{%- if gravito and didomi %}
union all
{%- endif %}
{%- if didomi %}
select 'didomi' as source, organization_id as domain, id as profile_id, cast(updated_at as date) as choice_date
from {{ ref('_didomi_users') }}
{%- endif %}
