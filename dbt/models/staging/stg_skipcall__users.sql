{#- The organization's users, by the membership id calls name their rep by (a user removed
    since still made the calls they made: no row is left out). -#}
select
    {{ skipcall.column('organizationMembershipId') }} as rep_membership_id,
    nullif(trim({{ dbt.concat([
        "coalesce(" ~ skipcall.column('firstName') ~ ", '')",
        "' '",
        "coalesce(" ~ skipcall.column('lastName') ~ ", '')",
    ]) }}), '') as rep_name
from {{ source('skipcall', 'users') }}
