{#- One row per utterance of the transcript of a call in skipcall_calls, in spoken order,
    with the call's owner (none if call_transcriptions is not loaded). -#}
{%- if skipcall.source_tables('call_transcriptions') | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as utterance_id,
    cast(null as {{ dbt.type_string() }}) as call_key,
    cast(null as {{ dbt.type_string() }}) as skipcall_source,
    cast(null as {{ dbt.type_string() }}) as skipcall_account,
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
    select
        transcriptions.skipcall_source,
        transcriptions.skipcall_account,
        transcriptions.transcription_id,
        transcriptions.call_id,
        transcriptions.transcript
    from {{ ref('stg_skipcall__transcriptions') }} as transcriptions
    inner join {{ ref('skipcall_calls') }} as calls
        on calls.call_id = transcriptions.call_id
        and {{ skipcall.same_owner('calls', 'transcriptions') }}
    where transcriptions.transcript is not null
),

utterances as (
    {{ skipcall.utterances('transcriptions') }}
)

select
    {{ skipcall.owned_key('utterances', ['utterances.transcription_id', 'utterances.position']) }}
        as utterance_id,
    {{ skipcall.owned_key('utterances', ['utterances.call_id']) }} as call_key,
    skipcall_source,
    skipcall_account,
    call_id,
    transcription_id,
    position,
    speaker,
    start_seconds,
    end_seconds,
    text,
    confidence
from utterances as utterances
{%- endif %}
