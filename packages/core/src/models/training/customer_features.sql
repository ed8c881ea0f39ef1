-- query:  training set from the customer feature group's offline store: one row per customer,
--         its latest record (by event time, then by when the store received and wrote it),
--         customers whose latest record is a deletion left out.
-- runs:   unchanged in Athena (offline_store = the offline store's Glue table, see
--         stacks/features.ts) and locally in DuckDB over the lake's offline-store files
--         (LocalFeatureStore.test.ts runs it and compares it with the online store).

with

offline as (select * from offline_store),

ranked as (
  select
    o.customer_id,
    o.order_count,
    o.total_spent,
    o.avg_order_value,
    o.last_order_date,
    o.nation,
    o.region,
    o.market_segment,
    o.event_time,
    o.is_deleted,
    row_number() over (
      partition by o.customer_id
      order by o.event_time desc, o.api_invocation_time desc, o.write_time desc
    ) as record_rank
  from offline as o
),

latest as (
  select
    r.customer_id,
    r.order_count,
    r.total_spent,
    r.avg_order_value,
    r.last_order_date,
    r.nation,
    r.region,
    r.market_segment,
    r.event_time
  from ranked as r
  where r.record_rank = 1 and not r.is_deleted
)

select * from latest
order by customer_id
