{#
  Where the models read from, and whose each row is.

  One schema (var `skipcall_schema`), as one tap-skipcall loads it, with `accounts` (several
  organisations in one set of tables, each row's `skipcall_account`) or `api_key` alone; or
  several schemas (var `skipcall_sources`, a list), as a project that loads each organisation
  through its own inherited plugin does: their tables are unioned. Every row then says the
  schema it came from (`skipcall_source`) and its account (`skipcall_account`: the table's
  own column, null where the tables were loaded with `api_key` alone), and every join and
  key of the models goes through both: two organisations never meet in a row.
#}

{#- The loaded tables named `table`: a list of [schema, relation] (none loaded: empty). -#}
{% macro source_tables(table) %}
  {%- set listed = var('skipcall_sources', []) -%}
  {%- set found = [] -%}
  {%- if listed | length == 0 -%}
    {%- set relation = skipcall.loaded(source('skipcall', table)) -%}
    {%- if relation is not none -%}
      {%- do found.append([var('skipcall_schema'), relation]) -%}
    {%- endif -%}
  {%- else -%}
    {%- for schema in listed -%}
      {%- set relation = api.Relation.create(database=target.database, schema=schema, identifier=table) -%}
      {%- set relation = skipcall.loaded(relation) -%}
      {%- if relation is not none -%}
        {%- do found.append([schema, relation]) -%}
      {%- endif -%}
    {%- endfor -%}
  {%- endif -%}
  {{ return(found) }}
{% endmacro %}


{#- Whose a row is: the schema it came from, and its account. -#}
{% macro owner_columns(schema, relation) %}
    cast('{{ schema }}' as {{ dbt.type_string() }}) as skipcall_source,
    {{ skipcall.account_column(relation) }} as skipcall_account
{%- endmacro %}


{#- The table's `skipcall_account` (loaded with `accounts`), else null. -#}
{% macro account_column(relation) %}
  {%- set names = [] -%}
  {%- if execute -%}
    {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
  {%- endif -%}
  {%- if 'skipcall_account' in names -%}
    {{ skipcall.column('skipcall_account') }}
  {%- else -%}
    cast(null as {{ dbt.type_string() }})
  {%- endif -%}
{%- endmacro %}


{#- Two rows have one owner: the same schema, the same account (null matching null). -#}
{% macro same_owner(left, right) %}
  {{ left }}.skipcall_source = {{ right }}.skipcall_source
  and coalesce({{ left }}.skipcall_account, '') = coalesce({{ right }}.skipcall_account, '')
{%- endmacro %}


{#- A key unique across owners: the owner, then the parts (expressions), '/'-separated. -#}
{% macro owned_key(relation, parts) %}
  {%- set pieces = [relation ~ ".skipcall_source", "'/'", "coalesce(" ~ relation ~ ".skipcall_account, '')"] -%}
  {%- for part in parts -%}
    {%- do pieces.extend(["'/'", "coalesce(" ~ dbt.safe_cast(part, dbt.type_string()) ~ ", '')"]) -%}
  {%- endfor -%}
  {{ dbt.concat(pieces) }}
{%- endmacro %}
