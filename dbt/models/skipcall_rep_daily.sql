{#-
  One row per account, rep and UTC day of the calls in skipcall_calls (the day the call
  started, or was created if it never started): calls, connected calls (statuses in the var
  `skipcall_connected_statuses`, `completed` by default) and the seconds talked on them.
-#}
with calls as (
    select
        skipcall_source,
        skipcall_account,
        rep_membership_id,
        rep_name,
        is_connected,
        duration_seconds,
        cast({{ dbt.date_trunc('day', 'coalesce(started_at, created_at)') }} as date) as call_day
    from {{ ref('skipcall_calls') }}
)

select
    {{ skipcall.owned_key('calls', [
        "coalesce(calls.rep_membership_id, '(no rep)')", "calls.call_day"]) }} as rep_day_id,
    calls.skipcall_source,
    calls.skipcall_account,
    calls.rep_membership_id,
    max(calls.rep_name) as rep_name,
    calls.call_day,
    count(*) as calls,
    sum(case when calls.is_connected then 1 else 0 end) as connected_calls,
    coalesce(sum(case when calls.is_connected then calls.duration_seconds end), 0) as talk_seconds
from calls
group by calls.skipcall_source, calls.skipcall_account, calls.rep_membership_id, calls.call_day
