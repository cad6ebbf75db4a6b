{{ config(materialized='ephemeral', enabled=var('consent_taps_didomi_enabled', true)) }}
-- Didomi's batch-export users, each once (organization, user id), as of its latest export: a user the export
-- writes again (a later partition, another export id) counts once, with its latest consents.
select export_id, partition_date, id, organization_id, consents, updated_at
from (
    select
        users.*,
        row_number() over (
            partition by organization_id, id order by partition_date desc, updated_at desc nulls last, export_id
        ) as _latest
    from {{ ref('stg_didomi__export_users') }} as users
) as ranked
where _latest = 1
