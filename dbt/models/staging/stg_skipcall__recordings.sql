{#- A call's recording (the latest, should it have several), unless it went with its call,
    with its owner. No rows if call_recordings is not loaded. -#}
{%- set tables = skipcall.source_tables('call_recordings') %}
{%- if tables | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as skipcall_source,
    cast(null as {{ dbt.type_string() }}) as skipcall_account,
    cast(null as {{ dbt.type_string() }}) as call_id,
    cast(null as {{ dbt.type_string() }}) as recording_id,
    cast(null as {{ dbt.type_float() }}) as duration_seconds,
    cast(null as {{ dbt.type_boolean() }}) as has_transcription,
    cast(null as {{ dbt.type_string() }}) as transcription_status
where 1 = 0
{%- else %}
select
    skipcall_source, skipcall_account, call_id, recording_id, duration_seconds,
    has_transcription, transcription_status
from (
    {%- for schema, relation in tables %}
    {%- if not loop.first %}
    union all
    {%- endif %}
    select
        {{ skipcall.owner_columns(schema, relation) }},
        {{ skipcall.column('call_id') }} as call_id,
        {{ skipcall.column('id') }} as recording_id,
        {{ skipcall.column('duration') }} as duration_seconds,
        {{ skipcall.column('hasTranscription') }} as has_transcription,
        {{ skipcall.column('transcriptionStatus') }} as transcription_status,
        row_number() over (
            partition by {{ skipcall.account_column(relation) }}, {{ skipcall.column('call_id') }}
            order by {{ skipcall.column('startTime') }} desc, {{ skipcall.column('id') }}
        ) as latest
    from {{ relation }}
    where {{ skipcall.not_marked_deleted(relation) }}
    {%- endfor %}
) as recordings
where latest = 1
{%- endif %}
