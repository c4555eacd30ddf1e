{#- A call's transcription, unless it went with its call. No rows if call_transcriptions is
    not loaded. -#}
{%- set transcriptions = source('skipcall', 'call_transcriptions') %}
{%- if skipcall.loaded(transcriptions) is none %}
select
    cast(null as {{ dbt.type_string() }}) as call_id,
    cast(null as {{ dbt.type_string() }}) as transcription_id,
    cast(null as {{ dbt.type_string() }}) as status,
    cast(null as {{ dbt.type_string() }}) as summary,
    cast(null as {{ dbt.type_string() }}) as transcript
where 1 = 0
{%- else %}
select call_id, transcription_id, status, summary, transcript
from (
    select
        {{ skipcall.column('call_id') }} as call_id,
        {{ skipcall.column('id') }} as transcription_id,
        {{ skipcall.column('status') }} as status,
        {{ skipcall.column('summary') }} as summary,
        {{ skipcall.column('transcript') }} as transcript,
        row_number() over (
            partition by {{ skipcall.column('call_id') }}
            order by {{ skipcall.column('startedAt') }} desc, {{ skipcall.column('id') }}
        ) as latest
    from {{ transcriptions }}
    where {{ skipcall.not_marked_deleted(transcriptions) }}
) as transcriptions
where latest = 1
{%- endif %}
