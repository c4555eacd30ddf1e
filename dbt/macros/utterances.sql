{#
  One row per utterance of each transcript in `transcriptions` (a CTE with skipcall_source,
  skipcall_account, transcription_id, call_id and transcript): those less the transcript,
  position (from 0), speaker, text, start_seconds, end_seconds, confidence. Unnesting a JSON
  array is each warehouse's own.
#}

{% macro utterances(transcriptions) %}
  {{ return(adapter.dispatch('utterances', 'skipcall')(transcriptions)) }}
{% endmacro %}

{% macro default__utterances(transcriptions) %}
  {{ exceptions.raise_compiler_error(
      "skipcall: no transcript unnesting for the " ~ target.type ~ " adapter yet: add a "
      ~ target.type ~ "__utterances macro (see macros/utterances.sql)") }}
{% endmacro %}

{% macro postgres__utterances(transcriptions) %}
  {#- target-postgres loads an array of objects as jsonb[] -#}
  select
    t.skipcall_source,
    t.skipcall_account,
    t.transcription_id,
    t.call_id,
    cast(u.position - 1 as integer) as position,
    cast(u.utterance ->> 'speaker' as integer) as speaker,
    u.utterance ->> 'text' as text,
    cast(u.utterance ->> 'start' as double precision) as start_seconds,
    cast(u.utterance ->> 'end' as double precision) as end_seconds,
    cast(u.utterance ->> 'confidence' as double precision) as confidence
  from {{ transcriptions }} as t
  cross join lateral unnest(t.transcript) with ordinality as u (utterance, position)
{% endmacro %}

{% macro duckdb__utterances(transcriptions) %}
  select
    skipcall_source,
    skipcall_account,
    transcription_id,
    call_id,
    cast(position as integer) as position,
    cast(json_extract(utterance, '$.speaker') as integer) as speaker,
    json_extract_string(utterance, '$.text') as text,
    cast(json_extract(utterance, '$.start') as double) as start_seconds,
    cast(json_extract(utterance, '$.end') as double) as end_seconds,
    cast(json_extract(utterance, '$.confidence') as double) as confidence
  from (
    select
      skipcall_source,
      skipcall_account,
      transcription_id,
      call_id,
      unnest(generate_series(0, cast(json_array_length(transcript) as bigint) - 1)) as position,
      unnest(cast(json_extract(transcript, '$[*]') as json[])) as utterance
    from {{ transcriptions }}
    where json_array_length(transcript) > 0
  ) as unnested
{% endmacro %}

{% macro snowflake__utterances(transcriptions) %}
  select
    t.skipcall_source,
    t.skipcall_account,
    t.transcription_id,
    t.call_id,
    cast(u.index as integer) as position,
    u.value:speaker::integer as speaker,
    u.value:text::varchar as text,
    u.value:start::double as start_seconds,
    u.value:end::double as end_seconds,
    u.value:confidence::double as confidence
  from {{ transcriptions }} as t,
    lateral flatten(input => t.transcript) as u
{% endmacro %}

{% macro bigquery__utterances(transcriptions) %}
  {#- target-bigquery (denormalized) loads the array as a REPEATED RECORD -#}
  select
    t.skipcall_source,
    t.skipcall_account,
    t.transcription_id,
    t.call_id,
    cast(position as int64) as position,
    cast(u.speaker as int64) as speaker,
    u.text as text,
    cast(u.start as float64) as start_seconds,
    cast(u.`end` as float64) as end_seconds,
    cast(u.confidence as float64) as confidence
  from {{ transcriptions }} as t
  cross join unnest(t.transcript) as u with offset as position
{% endmacro %}
