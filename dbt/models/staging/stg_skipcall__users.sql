{#- The organization's users, by the membership id calls name their rep by (a user removed
    since still made the calls they made: no row is left out), with their owner. -#}
{%- set tables = skipcall.source_tables('users') %}
{%- if tables | length == 0 %}
select
    cast(null as {{ dbt.type_string() }}) as skipcall_source,
    cast(null as {{ dbt.type_string() }}) as skipcall_account,
    cast(null as {{ dbt.type_string() }}) as rep_membership_id,
    cast(null as {{ dbt.type_string() }}) as rep_name
where 1 = 0
{%- endif %}
{%- for schema, relation in tables %}
{%- if not loop.first %}
union all
{%- endif %}
select
    {{ skipcall.owner_columns(schema, relation) }},
    {{ skipcall.column('organizationMembershipId') }} as rep_membership_id,
    nullif(trim({{ dbt.concat([
        "coalesce(" ~ skipcall.column('firstName') ~ ", '')",
        "' '",
        "coalesce(" ~ skipcall.column('lastName') ~ ", '')",
    ]) }}), '') as rep_name
from {{ relation }}
{%- endfor %}
