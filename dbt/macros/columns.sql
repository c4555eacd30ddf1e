{#
  How each loader names and types what tap-skipcall sends, per warehouse (dispatched).

  target-postgres (MeltanoLabs) keeps field names as sent, so camelCase names are quoted;
  target-duckdb folds them to lower case, target-snowflake (default casing) to upper case
  and BigQuery compares names without case: unquoted, the name as sent finds the column.
  Objects are jsonb (PostgreSQL), JSON (DuckDB), VARIANT (Snowflake) or RECORD (BigQuery,
  `denormalized: true`); the transcript is an array of them.
#}

{% macro column(name) %}
  {{ return(adapter.dispatch('column', 'skipcall')(name)) }}
{% endmacro %}

{% macro default__column(name) %}{{ name }}{% endmacro %}

{% macro postgres__column(name) %}{{ adapter.quote(name) }}{% endmacro %}


{# A field of a nested object, as text ('true' and 'false' for booleans). #}
{% macro json_text(object, key) %}
  {{ return(adapter.dispatch('json_text', 'skipcall')(object, key)) }}
{% endmacro %}

{% macro default__json_text(object, key) %}
  {{ exceptions.raise_compiler_error(
      "skipcall: no JSON access for the " ~ target.type ~ " adapter yet: add a "
      ~ target.type ~ "__json_text macro (see macros/columns.sql)") }}
{% endmacro %}

{% macro postgres__json_text(object, key) %}({{ object }} ->> '{{ key }}'){% endmacro %}

{% macro duckdb__json_text(object, key) %}json_extract_string({{ object }}, '$.{{ key }}'){% endmacro %}

{% macro snowflake__json_text(object, key) %}{{ object }}:{{ key }}::varchar{% endmacro %}

{% macro bigquery__json_text(object, key) %}cast({{ object }}.{{ key }} as string){% endmacro %}


{# Whether a call's status means someone answered (the var `skipcall_connected_statuses`). #}
{% macro is_connected(status) %}
  {%- set statuses = var('skipcall_connected_statuses') -%}
  coalesce({{ status }} in (
    {%- for value in statuses %}'{{ value }}'{{ "," if not loop.last }}{% endfor -%}
  ), false)
{% endmacro %}


{#
  Not marked deleted by the tap or the loader: `_sdc_deleted_at` null, where the table has
  that column (a table loaded before tap-skipcall sent it for children may not).
#}
{% macro not_marked_deleted(relation) %}
  {%- if execute -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- if '_sdc_deleted_at' in names -%}
      {{ skipcall.column('_sdc_deleted_at') }} is null
    {%- else -%}
      1 = 1
    {%- endif -%}
  {%- else -%}
    1 = 1
  {%- endif -%}
{% endmacro %}


{#
  The source table, if the loader wrote it (None if that stream is not selected): the
  models then read calls and users alone. At parse time, the source itself.
#}
{% macro loaded(relation) %}
  {%- if execute -%}
    {{ return(adapter.get_relation(
        database=relation.database, schema=relation.schema, identifier=relation.identifier)) }}
  {%- else -%}
    {{ return(relation) }}
  {%- endif -%}
{% endmacro %}
