-- TEMP
{{ config(enabled=var('consent_taps_didomi_enabled', true)) }}
{% set columns = {
    "id": "string",
    "organization_id": "string",
    "name": "string",
    "policy_url": "string",
    "namespaces": "json",
    "purposes_ids": "json",
    "legitimate_interest_purposes_ids": "json",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "_extra": "json"
} %}
{{ staging_select('tap_didomi', 'vendors', columns, key=['id'], latest_by='updated_at') }}
