{#- One row per utterance of the transcript of a call in skipcall_calls, in spoken order
    (none if call_transcriptions is not loaded). -#}
{%- if skipcall.loaded(source('skipcall', 'call_transcriptions')) is none %}
select
    cast(null as {{ dbt.type_string() }}) as utterance_id,
    cast(null as {{ dbt.type_string() }}) as call_id,
    cast(null as {{ dbt.type_string() }}) as transcription_id,
    cast(null as {{ dbt.type_int() }}) as position,
    cast(null as {{ dbt.type_int() }}) as speaker,
    cast(null as {{ dbt.type_float() }}) as start_seconds,
    cast(null as {{ dbt.type_float() }}) as end_seconds,
    cast(null as {{ dbt.type_string() }}) as text,
    cast(null as {{ dbt.type_float() }}) as confidence
where 1 = 0
{%- else %}
with transcriptions as (
    select transcriptions.transcription_id, transcriptions.call_id, transcriptions.transcript
    from {{ ref('stg_skipcall__transcriptions') }} as transcriptions
    inner join {{ ref('skipcall_calls') }} as calls on calls.call_id = transcriptions.call_id
    where transcriptions.transcript is not null
),

utterances as (
    {{ skipcall.utterances('transcriptions') }}
)

select
    {{ dbt.concat(["transcription_id", "'/'", dbt.safe_cast("position", dbt.type_string())]) }}
        as utterance_id,
    call_id,
    transcription_id,
    position,
    speaker,
    start_seconds,
    end_seconds,
    text,
    confidence
from utterances
{%- endif %}
