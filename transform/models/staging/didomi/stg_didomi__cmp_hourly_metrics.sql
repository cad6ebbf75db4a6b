-- TEMP hand-written (until the generated one arrives from the didomi branch)
{{ config(enabled=var('consent_taps_didomi_enabled', true)) }}
{% set columns = {
    "export_id": "string",
    "partition_date": "date",
    "hour": "timestamp",
    "organization_id": "string",
    "notice_id": "string",
    "domain": "string",
    "country": "string",
    "device_type": "string",
    "regulation": "string",
    "pageviews": "bigint",
    "notice_displays": "bigint",
    "consents_given": "bigint",
    "consents_denied": "bigint",
    "consents_partial": "bigint",
    "ui_interactions": "bigint",
    "_extra": "json"
} %}
{{ staging_select('tap_didomi', 'cmp_hourly_metrics', columns, key=['export_id', 'partition_date', 'hour', 'notice_id', 'domain', 'country', 'device_type', 'regulation'], latest_by=none) }}
