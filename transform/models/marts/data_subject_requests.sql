{#
  Data-subject requests and whether they were answered within GDPR's one month (30 days):
  Voyado customer-data exports (access requests) and Lytics deletion requests.
  - Voyado: subject = the customerKey; open while created, waiting or running; answered once done
    (downloaded: the tap has emitted its lines), completed_at = when the tap first saw it done.
    error, not_found and expired are closed without an answer (days_open null).
  - Lytics: deletestatus tells neither the subject nor when the request was made, so subject,
    requested_at, completed_at and days_open are null; a request the vendor does not know is not_found.
    overdue is false once done, else unknown (null).
#}
{% set voyado = var('consent_taps_voyado_enabled', true) %}
{% set lytics = var('consent_taps_lytics_enabled', true) %}
{{ config(enabled=voyado or lytics) }}
{% set open_states = ['created', 'waiting', 'running'] %}
with
{% if voyado -%}
voyado as (
    select
        'voyado' as system,
        jid as request_id,
        customer_key as subject,
        requested_at,
        status as state,
        completed_at,
        status in ('{{ open_states | join("', '") }}') as is_open
    from {{ ref('stg_voyado__export_jobs') }}
),
{%- endif %}

{% if lytics -%}
lytics as (
    select
        'lytics' as system,
        request_id,
        cast(null as {{ dbt.type_string() }}) as subject,
        cast(null as {{ dbt.type_timestamp() }}) as requested_at,
        case when found = false then 'not_found' else state end as state,
        cast(null as {{ dbt.type_timestamp() }}) as completed_at,
        coalesce(found, true) and not coalesce(completed, false) and coalesce(state, '') <> 'done' as is_open
    from {{ ref('stg_lytics__deletion_requests') }}
),
{%- endif %}

requests as (
    {#- only the systems this project loads (a package user turns the others off) #}
    {%- if voyado %}
    select * from voyado
    {%- endif %}
    {%- if voyado and lytics %}
    union all
    {%- endif %}
    {%- if lytics %}
    select * from lytics
    {%- endif %}
),

timed as (
    select
        requests.*,
        case
            when is_open then {{ dbt.datediff('requested_at', dbt.current_timestamp(), 'day') }}
            when completed_at is not null then {{ dbt.datediff('requested_at', 'completed_at', 'day') }}
        end as days_open
    from requests
)

select
    system,
    request_id,
    subject,
    requested_at,
    state,
    completed_at,
    days_open,
    case when not is_open then false when days_open is null then null else days_open > 30 end as overdue
from timed
