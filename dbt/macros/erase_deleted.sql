{#
  dbt run-operation skipcall_erase_deleted [--args '{keep_rows: true}']

  The loaders mark a deleted call (soft-deleted in Skipcall, or found gone by the tap's
  reconciliation) with `_sdc_deleted_at`, or remove it with `hard_delete`; its recording and
  transcription rows stay, transcript and AI summary in clear. This removes them: every row
  of `call_recordings` and `call_transcriptions` whose call is not live (deleted, or gone from
  the calls table), and blanks the `notes` of every deleted call. With `keep_rows: true`, the
  rows stay and the transcriptions' `transcript` and `summary` become null instead.

  It reads var `skipcall_schema` (or every schema of `skipcall_sources`); a call is its
  account's (`skipcall_account`) where the tables have that column. Run it after each load
  (the Meltano job `skipcall-erase-deleted`).
#}
{% macro skipcall_erase_deleted(keep_rows=false) %}
  {%- set schemas = var('skipcall_sources', []) or [var('skipcall_schema')] -%}
  {%- for schema in schemas -%}
    {%- set calls = adapter.get_relation(database=target.database, schema=schema, identifier='calls') -%}
    {%- if calls is none -%}
      {{ log("skipcall_erase_deleted: no calls table in " ~ schema ~ ": nothing to do there", info=true) }}
    {%- else -%}
      {%- for table in ['call_transcriptions', 'call_recordings'] -%}
        {%- set child = adapter.get_relation(database=target.database, schema=schema, identifier=table) -%}
        {%- if child is not none -%}
          {%- set orphaned = skipcall.without_live_call(child, calls) -%}
          {%- if keep_rows and table == 'call_transcriptions' -%}
            {%- set sql -%}
              update {{ child }}
              set {{ skipcall.column('transcript') }} = null, {{ skipcall.column('summary') }} = null
              where {{ orphaned }}
            {%- endset -%}
          {%- elif not keep_rows -%}
            {%- set sql -%}delete from {{ child }} where {{ orphaned }}{%- endset -%}
          {%- else -%}
            {%- set sql = none -%}
          {%- endif -%}
          {%- if sql is not none -%}
            {%- do run_query(sql) -%}
            {{ log("skipcall_erase_deleted: " ~ ("blanked" if keep_rows else "removed") ~ " the " ~ table ~ " of deleted calls in " ~ schema, info=true) }}
          {%- endif -%}
        {%- endif -%}
      {%- endfor -%}
      {%- set blank -%}
        update {{ calls }} set {{ skipcall.column('notes') }} = null
        where {{ skipcall.column('notes') }} is not null and (
          {{ skipcall.column('deletedAt') }} is not null
          or {{ skipcall.column('_sdc_deleted_at') }} is not null
        )
      {%- endset -%}
      {%- do run_query(blank) -%}
      {%- if target.type in ('postgres', 'duckdb', 'snowflake') -%}{%- do adapter.commit() -%}{%- endif -%}
    {%- endif -%}
  {%- endfor -%}
{% endmacro %}


{#- Rows of `child` whose call (its `call_id`, its account) has no live row in `calls`. -#}
{% macro without_live_call(child, calls) %}
  {%- set accounts = 'skipcall_account' in (adapter.get_columns_in_relation(child) | map(attribute='name') | map('lower') | list)
      and 'skipcall_account' in (adapter.get_columns_in_relation(calls) | map(attribute='name') | map('lower') | list) -%}
  not exists (
    select 1 from {{ calls }} as live_calls
    where live_calls.{{ skipcall.column('id') }} = {{ child }}.{{ skipcall.column('call_id') }}
      {%- if accounts %}
      and coalesce(live_calls.{{ skipcall.column('skipcall_account') }}, '')
        = coalesce({{ child }}.{{ skipcall.column('skipcall_account') }}, '')
      {%- endif %}
      and live_calls.{{ skipcall.column('deletedAt') }} is null
      and live_calls.{{ skipcall.column('_sdc_deleted_at') }} is null
  )
{%- endmacro %}
