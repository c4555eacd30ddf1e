{#- Fails if the daily counts do not add up to the calls in skipcall_calls. -#}
select counted.calls, listed.calls
from (select coalesce(sum(calls), 0) as calls from {{ ref('skipcall_rep_daily') }}) as counted
cross join (select count(*) as calls from {{ ref('skipcall_calls') }}) as listed
where counted.calls <> listed.calls
