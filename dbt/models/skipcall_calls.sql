{#-
  One row per call that is not deleted: who called whom, when, how long, with what result,
  and what its recording and transcription hold; whose it is (skipcall_source, the schema it
  came from, and skipcall_account). A deleted call (its deletedAt, or a row the loader marked
  deleted) has no row here, nor in any other model.
-#}
with calls as (
    select * from {{ ref('stg_skipcall__calls') }} where not is_deleted
),

recordings as (
    select * from {{ ref('stg_skipcall__recordings') }}
),

transcriptions as (
    select * from {{ ref('stg_skipcall__transcriptions') }}
),

users as (
    select * from {{ ref('stg_skipcall__users') }}
)

select
    {{ skipcall.owned_key('calls', ['calls.call_id']) }} as call_key,
    calls.skipcall_source,
    calls.skipcall_account,
    calls.call_id,
    calls.direction,
    calls.status,
    {{ skipcall.is_connected('calls.status') }} as is_connected,
    calls.call_type,
    calls.started_at,
    calls.ended_at,
    {{ dbt.datediff('calls.started_at', 'calls.ended_at', 'second') }} as duration_seconds,
    calls.rep_membership_id,
    users.rep_name,
    calls.contact_id,
    calls.sequence_id,
    recordings.recording_id is not null as has_recording,
    coalesce(transcriptions.status, recordings.transcription_status) as transcription_status,
    transcriptions.summary as ai_summary,
    calls.created_at,
    calls.updated_at
from calls
left join recordings
    on recordings.call_id = calls.call_id and {{ skipcall.same_owner('recordings', 'calls') }}
left join transcriptions
    on transcriptions.call_id = calls.call_id
    and {{ skipcall.same_owner('transcriptions', 'calls') }}
left join users
    on users.rep_membership_id = calls.rep_membership_id
    and {{ skipcall.same_owner('users', 'calls') }}
