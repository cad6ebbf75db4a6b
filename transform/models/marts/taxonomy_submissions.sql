{{ config(enabled=var('consent_taps_claravine_enabled', true)) }}
-- Claravine submissions per dataset and day (UTC day of submittedAt): how many, how many rows they
-- carried, and how many are still Pending or Failed.
select
    dataset_uuid,
    cast(submitted_at as date) as {{ adapter.quote('date') }},
    count(*) as submissions,
    coalesce(sum(row_count), 0) as {{ adapter.quote('rows') }},
    sum(case when status = 'Pending' then 1 else 0 end) as pending,
    sum(case when status = 'Failed' then 1 else 0 end) as failed
from {{ ref('stg_claravine__transactions') }}
group by dataset_uuid, cast(submitted_at as date)
