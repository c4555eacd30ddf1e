{#-
  Fails with every row of a model whose call is deleted: soft-deleted by the API
  (deletedAt), marked deleted by the loader (_sdc_deleted_at: listed soft deletes, calls the
  reconciliation found gone), or missing from the calls table (erased for good). A call is
  its owner's (schema and account): another organisation's call of the same id is another.
-#}
with calls as (
    select
        {{ skipcall.owned_key('stg', ['stg.call_id']) }} as call_key,
        stg.is_deleted
    from {{ ref('stg_skipcall__calls') }} as stg
),

deleted as (
    select call_key from calls where is_deleted
),

live as (
    select call_key from calls where not is_deleted
),

model_rows as (
    select 'skipcall_calls' as model, call_key from {{ ref('skipcall_calls') }}
    union all
    select 'skipcall_transcript_utterances' as model, call_key
    from {{ ref('skipcall_transcript_utterances') }}
)

select model_rows.model, model_rows.call_key
from model_rows
where model_rows.call_key in (select call_key from deleted)
    or model_rows.call_key not in (select call_key from live)
