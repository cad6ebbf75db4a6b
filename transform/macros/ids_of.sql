{#
  One row per element of an integer list column: (the relation's `keys` columns..., id).
  The loaders store lists differently: target-duckdb as JSON, target-postgres as a bigint[] array,
  target-snowflake as VARIANT.
#}
{% macro ids_of(relation, column, keys) %}{{ return(adapter.dispatch('ids_of')(relation, column, keys)) }}{% endmacro %}

{% macro duckdb__ids_of(relation, column, keys) %}
    select {{ keys | join(', ') }}, cast(unnest(from_json({{ column }}, '["BIGINT"]')) as bigint) as id
    from {{ relation }}
    where {{ column }} is not null
{% endmacro %}

{% macro postgres__ids_of(relation, column, keys) %}
    select {{ keys | join(', ') }}, cast(unnest({{ column }}) as bigint) as id
    from {{ relation }}
    where {{ column }} is not null
{% endmacro %}

{% macro snowflake__ids_of(relation, column, keys) %}
    select {% for key in keys %}r.{{ key }}, {% endfor %}cast(f.value as bigint) as id
    from {{ relation }} as r, lateral flatten(input => r.{{ column }}) as f
{% endmacro %}
