{#- A call's recording (the latest, should it have several), unless it went with its call.
    No rows if call_recordings is not loaded. -#}
{%- set recordings = source('skipcall', 'call_recordings') %}
{%- if skipcall.loaded(recordings) is none %}
select
    cast(null as {{ dbt.type_string() }}) as call_id,
    cast(null as {{ dbt.type_string() }}) as recording_id,
    cast(null as {{ dbt.type_float() }}) as duration_seconds,
    cast(null as {{ dbt.type_boolean() }}) as has_transcription,
    cast(null as {{ dbt.type_string() }}) as transcription_status
where 1 = 0
{%- else %}
select call_id, recording_id, duration_seconds, has_transcription, transcription_status
from (
    select
        {{ skipcall.column('call_id') }} as call_id,
        {{ skipcall.column('id') }} as recording_id,
        {{ skipcall.column('duration') }} as duration_seconds,
        {{ skipcall.column('hasTranscription') }} as has_transcription,
        {{ skipcall.column('transcriptionStatus') }} as transcription_status,
        row_number() over (
            partition by {{ skipcall.column('call_id') }}
            order by {{ skipcall.column('startTime') }} desc, {{ skipcall.column('id') }}
        ) as latest
    from {{ recordings }}
    where {{ skipcall.not_marked_deleted(recordings) }}
) as recordings
where latest = 1
{%- endif %}
