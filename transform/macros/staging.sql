{#
  The body of every staging model: the stream's columns, typed, one row per key (the latest by
  `latest_by` where the stream has a replication key). A stream whose table is not loaded yet (its tap
  has not run on this warehouse) gives an empty relation with the same columns, so `dbt build` works
  after any one tap has run.
#}
{% macro staging_select(source_name, table_name, columns, key, latest_by=none) %}
{%- set relation = source(source_name, table_name) -%}
{%- set loaded = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) if execute else none -%}
{%- set present = adapter.get_columns_in_relation(loaded) | map(attribute='name') | map('lower') | list if loaded is not none else [] -%}
with typed as (
    select
    {%- for name, kind in columns.items() %}
        {% if name | lower in present -%}
        {{ staging_cast(adapter.quote(name), kind) }}
        {%- else -%}
        {{ staging_cast('null', kind) }}
        {%- endif %} as {{ adapter.quote(name) }}{{ "," if not loop.last }}
    {%- endfor %}
    {%- if loaded is not none %}
    from {{ relation }}
    {%- else %}
    where 1 = 0
    {%- endif %}
),

ranked as (
    select
        typed.*,
        row_number() over (
            partition by {% for column in key %}{{ adapter.quote(column) }}{{ ", " if not loop.last }}{% endfor %}
            order by {{ adapter.quote(latest_by) ~ " desc nulls last" if latest_by else "1" }}
        ) as _key_rank
    from typed
)

select
{%- for name in columns %}
    {{ adapter.quote(name) }}{{ "," if not loop.last }}
{%- endfor %}
from ranked
where _key_rank = 1
{% endmacro %}


{# A column cast to its stream type; json columns keep the loader's own type (JSON, JSONB, VARIANT). #}
{% macro staging_cast(expression, kind) %}
    {%- if kind == 'json' -%}
        {%- if expression == 'null' -%}cast(null as {{ json_type() }}){%- else -%}{{ expression }}{%- endif -%}
    {%- elif kind == 'string' -%}cast({{ expression }} as {{ dbt.type_string() }})
    {%- elif kind == 'bigint' -%}cast({{ expression }} as {{ dbt.type_bigint() }})
    {%- elif kind == 'float' -%}cast({{ expression }} as {{ type_double() }})
    {%- elif kind == 'boolean' -%}cast({{ expression }} as {{ dbt.type_boolean() }})
    {%- elif kind == 'timestamp' -%}cast({{ expression }} as {{ dbt.type_timestamp() }})
    {%- elif kind == 'date' -%}cast({{ expression }} as date)
    {%- else -%}{{ exceptions.raise_compiler_error("unknown column kind " ~ kind) }}
    {%- endif -%}
{% endmacro %}


{% macro json_type() %}{{ return(adapter.dispatch('json_type')()) }}{% endmacro %}
{% macro default__json_type() %}json{% endmacro %}
{% macro postgres__json_type() %}jsonb{% endmacro %}
{% macro snowflake__json_type() %}variant{% endmacro %}


{# 8-byte floating point everywhere (type_double() is a 4-byte REAL on DuckDB). #}
{% macro type_double() %}{{ return(adapter.dispatch('type_double')()) }}{% endmacro %}
{% macro default__type_double() %}double precision{% endmacro %}
{% macro duckdb__type_double() %}double{% endmacro %}
{% macro snowflake__type_double() %}float{% endmacro %}
