{#
  The TCF ids each profile of _tcf_profiles names, one row per source, domain, profile, kind (purpose or
  vendor), id and whether it consented: the ids of the TCF marts, and their numerators.
  - Gravito: the decoded TC string's consent lists (consented) and legitimate-interest lists (not consented).
  - Didomi: the user's consents.purposes [{id, enabled}] and consents.vendors {enabled, disabled}, each named by
    its TCF id: the purpose's iab_id (stg_didomi__purposes), the vendor's namespaces.iab2 (its IAB TCF v2 id; the
    TCF v1 id namespaces.iab where it has no v2 one) (stg_didomi__vendors, Didomi's /metadata/partners).
    Purposes and vendors with no TCF id (Didomi's own, custom ones) are left out.
#}
{% set gravito = var('consent_taps_gravito_enabled', true) %}
{% set didomi = var('consent_taps_didomi_enabled', true) %}
{{ config(materialized='ephemeral', enabled=gravito or didomi) }}
{% set gravito_lists = [
    ('purpose', 'purposes_consented', true),
    ('purpose', 'purposes_legitimate_interest', false),
    ('vendor', 'vendors_consented', true),
    ('vendor', 'vendors_legitimate_interest', false),
] %}
with
{%- if gravito %}
gravito as (
    select domain, profile_id, {{ gravito_lists | map(attribute=1) | join(', ') }}
    from {{ ref('stg_gravito__tcf_consents') }}
    where tc_string is not null and decode_error is null
),
{%- endif %}
{%- if didomi %}
didomi_users as (
    select organization_id, id, consents from {{ ref('_didomi_users') }}
),

didomi_purposes as (
    select items.organization_id, items.id, {{ json_text('items.item', 'id') }} as purpose, {{ json_text('items.item', 'enabled') }} = 'true' as consented
    from ({{ json_items('didomi_users', 'consents', ['purposes'], ['organization_id', 'id']) }}) as items
),

didomi_vendors as (
    {%- for list in ('enabled', 'disabled') %}
    select items.organization_id, items.id, items.item_text as vendor, {{ 'true' if list == 'enabled' else 'false' }} as consented
    from ({{ json_items('didomi_users', 'consents', ['vendors', list], ['organization_id', 'id']) }}) as items
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),

vendor_iab as (
    select id, cast(coalesce({{ json_text('namespaces', 'iab2') }}, {{ json_text('namespaces', 'iab') }}) as {{ dbt.type_bigint() }}) as tcf_id
    from {{ ref('stg_didomi__vendors') }}
    where coalesce({{ json_text('namespaces', 'iab2') }}, {{ json_text('namespaces', 'iab') }}) is not null
),
{%- endif %}

choices as (
    {%- set parts = [] %}
    {%- if gravito %}
    {%- for kind, list, consented in gravito_lists %}
    {%- do parts.append(
        "select 'gravito' as source, domain, profile_id, '" ~ kind ~ "' as kind, id as tcf_id, " ~ ('true' if consented else 'false') ~ " as consented from ("
        ~ ids_of('gravito', list, ['domain', 'profile_id']) ~ ") as " ~ list
    ) %}
    {%- endfor %}
    {%- endif %}
    {%- if didomi %}
    {%- do parts.append(
        "select 'didomi' as source, choices.organization_id as domain, choices.id as profile_id, 'purpose' as kind, purposes.iab_id as tcf_id, choices.consented
    from didomi_purposes as choices
    join " ~ ref('stg_didomi__purposes') ~ " as purposes on purposes.id = choices.purpose
    where purposes.iab_id is not null"
    ) %}
    {%- do parts.append(
        "select 'didomi' as source, choices.organization_id as domain, choices.id as profile_id, 'vendor' as kind, vendor_iab.tcf_id, choices.consented
    from didomi_vendors as choices
    join vendor_iab on vendor_iab.id = choices.vendor"
    ) %}
    {%- endif %}
    {{ parts | join("\n    union all\n    ") }}
)

select source, domain, profile_id, kind, cast(tcf_id as {{ dbt.type_bigint() }}) as tcf_id, consented from choices
