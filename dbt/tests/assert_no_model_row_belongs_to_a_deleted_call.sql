{#-
  Fails with every row of a model whose call is deleted: soft-deleted by the API
  (deletedAt), marked deleted by the loader (_sdc_deleted_at: listed soft deletes, calls the
  reconciliation found gone), or missing from the calls table (erased for good).
-#}
with deleted as (
    select call_id from {{ ref('stg_skipcall__calls') }} where is_deleted
),

live as (
    select call_id from {{ ref('stg_skipcall__calls') }} where not is_deleted
),

model_rows as (
    select 'skipcall_calls' as model, call_id from {{ ref('skipcall_calls') }}
    union all
    select 'skipcall_transcript_utterances' as model, call_id
    from {{ ref('skipcall_transcript_utterances') }}
)

select model_rows.model, model_rows.call_id
from model_rows
where model_rows.call_id in (select call_id from deleted)
    or model_rows.call_id not in (select call_id from live)
