{#-
  One row per rep per UTC day of the calls in skipcall_calls (the day the call started, or
  was created if it never started): calls, connected calls (statuses in the var
  `skipcall_connected_statuses`, `completed` by default) and the seconds talked on them.
-#}
with calls as (
    select
        rep_membership_id,
        rep_name,
        is_connected,
        duration_seconds,
        cast({{ dbt.date_trunc('day', 'coalesce(started_at, created_at)') }} as date) as call_day
    from {{ ref('skipcall_calls') }}
)

select
    {{ dbt.concat([
        "coalesce(rep_membership_id, '(no rep)')",
        "'/'",
        dbt.safe_cast("call_day", dbt.type_string()),
    ]) }} as rep_day_id,
    rep_membership_id,
    max(rep_name) as rep_name,
    call_day,
    count(*) as calls,
    sum(case when is_connected then 1 else 0 end) as connected_calls,
    coalesce(sum(case when is_connected then duration_seconds end), 0) as talk_seconds
from calls
group by rep_membership_id, call_day
