-- TEMP
{{ config(enabled=var('consent_taps_didomi_enabled', true)) }}
{% set columns = {
    "id": "string",
    "organization_id": "string",
    "name": "json",
    "description": "json",
    "iab_id": "bigint",
    "metadata": "json",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "_extra": "json"
} %}
{{ staging_select('tap_didomi', 'purposes', columns, key=['id'], latest_by='updated_at') }}
