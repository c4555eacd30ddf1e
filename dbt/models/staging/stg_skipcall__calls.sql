{#- Calls as every model reads them: typed, named alike in every warehouse, with their owner
    (the schema they came from, their account), from every source schema. -#}
{%- set tables = skipcall.source_tables('calls') %}
{%- if tables | length == 0 %}
  {{ exceptions.raise_compiler_error(
      "skipcall: no calls table in " ~ (var('skipcall_sources', []) or [var('skipcall_schema')]) | join(', ')
      ~ ": set var skipcall_schema (or skipcall_sources) to where tap-skipcall's loader wrote it") }}
{%- endif %}
{%- for schema, relation in tables %}
{%- if not loop.first %}
union all
{%- endif %}
select
    {{ skipcall.owner_columns(schema, relation) }},
    {{ skipcall.column('id') }} as call_id,
    {{ skipcall.column('type') }} as direction,
    {{ skipcall.column('status') }} as status,
    {{ skipcall.column('callType') }} as call_type,
    cast({{ skipcall.column('startedAt') }} as {{ dbt.type_timestamp() }}) as started_at,
    cast({{ skipcall.column('endedAt') }} as {{ dbt.type_timestamp() }}) as ended_at,
    cast({{ skipcall.column('createdAt') }} as {{ dbt.type_timestamp() }}) as created_at,
    cast({{ skipcall.column('updatedAt') }} as {{ dbt.type_timestamp() }}) as updated_at,
    {{ skipcall.column('organizationMembershipId') }} as rep_membership_id,
    case
        when {{ skipcall.json_text(skipcall.column('contact'), 'isUnknown') }} = 'true' then null
        else {{ skipcall.json_text(skipcall.column('contact'), 'id') }}
    end as contact_id,
    {{ skipcall.column('sequenceId') }} as sequence_id,
    {#- Deleted: the API says so (deletedAt), or the loader marked it (_sdc_deleted_at: a
        listed soft delete, or a call the reconciliation found gone). -#}
    (
        {{ skipcall.column('deletedAt') }} is not null
        or {{ skipcall.column('_sdc_deleted_at') }} is not null
    ) as is_deleted
from {{ relation }}
{%- endfor %}
