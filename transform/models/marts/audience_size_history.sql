{{ config(enabled=var('consent_taps_lytics_enabled', true)) }}
-- Lytics audience sizes, one row per audience and measurement (one per run of tap-lytics); the
-- audience's current name, or the name it had when measured if Lytics no longer lists it.
select
    sizes.segment_id,
    sizes.measured_at,
    coalesce(segments.name, sizes.name) as segment_name,
    sizes.size
from {{ ref('stg_lytics__segment_sizes') }} as sizes
left join {{ ref('stg_lytics__segments') }} as segments on segments.id = sizes.segment_id
