{#- A call's transcription, unless it went with its call, with its owner. No rows if
    call_transcriptions is not loaded. -#}
{%- set tables = skipcall.source_tables('call_transcriptions') %}
{%- if tables | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as skipcall_source,
    cast(null as {{ dbt.type_string() }}) as skipcall_account,
    cast(null as {{ dbt.type_string() }}) as call_id,
    cast(null as {{ dbt.type_string() }}) as transcription_id,
    cast(null as {{ dbt.type_string() }}) as status,
    cast(null as {{ dbt.type_string() }}) as summary,
    cast(null as {{ dbt.type_string() }}) as transcript
where 1 = 0
{%- else %}
select skipcall_source, skipcall_account, call_id, transcription_id, status, summary, transcript
from (
    {%- for schema, relation in tables %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        {{ skipcall.owner_columns(schema, relation) }},
        {{ skipcall.column('call_id') }} as call_id,
        {{ skipcall.column('id') }} as transcription_id,
        {{ skipcall.column('status') }} as status,
        {{ skipcall.column('summary') }} as summary,
        {{ skipcall.column('transcript') }} as transcript,
        row_number() over (
            partition by {{ skipcall.account_column(relation) }}, {{ skipcall.column('call_id') }}
            order by {{ skipcall.column('startedAt') }} desc, {{ skipcall.column('id') }}
        ) as latest
    from {{ relation }}
    where {{ skipcall.not_marked_deleted(relation) }}
    {%- endfor %}
) as transcriptions
where latest = 1
{%- endif %}
