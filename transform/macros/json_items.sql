{#
  One row per element of a JSON array inside a JSON column: (the relation's `keys` columns..., item, item_text),
  item the element as a JSON value, item_text the element as text when it is a string (read in the same select
  as the array is unnested: fakesnow keeps a string VARIANT's quotes when it is cast to text later). `path` is a list of object keys leading to the array (['vendors', 'enabled'] for consents.vendors.enabled);
  a missing path or a value that is not an array gives no row. The loaders store objects differently:
  target-duckdb as JSON text, target-postgres as jsonb, target-snowflake as VARIANT.
  json_text(item, field) reads a field of an object item as text.
#}
{% macro json_items(relation, column, path, keys) %}{{ return(adapter.dispatch('json_items')(relation, column, path, keys)) }}{% endmacro %}

{% macro duckdb__json_items(relation, column, path, keys) %}
    {%- set value = "json_extract(" ~ column ~ ", '$." ~ path | join(".") ~ "')" %}
    select
        {{ keys | join(', ') }},
        unnest(from_json({{ value }}, '["JSON"]')) as item,
        unnest(from_json({{ value }}, '["VARCHAR"]')) as item_text
    from {{ relation }}
    where json_type(json_extract({{ column }}, '$.{{ path | join(".") }}')) = 'ARRAY'
{% endmacro %}

{% macro postgres__json_items(relation, column, path, keys) %}
    {%- set value = "r." ~ column ~ " #> '{" ~ path | join(",") ~ "}'" %}
    select {% for key in keys %}r.{{ key }}, {% endfor %}e.item, e.item #>> '{}' as item_text
    from {{ relation }} as r
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof({{ value }}) = 'array' then {{ value }} else '[]'::jsonb end
    ) as e(item)
{% endmacro %}

{% macro snowflake__json_items(relation, column, path, keys) %}
    select {% for key in keys %}r.{{ key }}, {% endfor %}f.value as item, f.value::string as item_text
    from {{ relation }} as r, lateral flatten(input => r.{{ column }}:{{ path | join(".") }}) as f
    where is_array(r.{{ column }}:{{ path | join(".") }})
{% endmacro %}


{% macro json_text(item, field) %}{{ return(adapter.dispatch('json_text')(item, field)) }}{% endmacro %}

{% macro duckdb__json_text(item, field) -%}
    json_extract_string({{ item }}, '$.{{ field }}')
{%- endmacro %}

{% macro postgres__json_text(item, field) -%}
    {{ item }} ->> '{{ field }}'
{%- endmacro %}

{% macro snowflake__json_text(item, field) -%}
    {{ item }}:{{ field }}::string
{%- endmacro %}
