-- TEMP
{{ config(enabled=var('consent_taps_didomi_enabled', true)) }}
{% set columns = {
    "export_id": "string",
    "partition_date": "date",
    "id": "string",
    "organization_id": "string",
    "organization_user_id": "string",
    "consents": "json",
    "metadata": "json",
    "created_at": "timestamp",
    "updated_at": "timestamp",
    "_extra": "json"
} %}
{{ staging_select('tap_didomi', 'export_users', columns, key=['export_id', 'partition_date', 'id'], latest_by=none) }}
