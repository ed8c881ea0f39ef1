-- model:  gold.ml_features
-- grain:  one row per customer not deleted at the source
-- inputs: silver.customer, silver.orders, silver.nation, silver.region
-- tests:  unique(customer_id); not_null(customer_id, order_count, total_spent)
-- tests:  range(order_count: 0..); range(total_spent: 0..)
-- tests:  warn not_null(nation, region, market_segment); warn row_count_change(50%)
-- record id:  customer_id
-- event time: event_time String
-- feature:    customer_id Integral
-- feature:    order_count Integral
-- feature:    total_spent Fractional
-- feature:    avg_order_value Fractional
-- feature:    last_order_date String
-- feature:    nation String
-- feature:    region String
-- feature:    market_segment String
-- note:   the record id, event time and feature lines are the feature group's definitions:
--         stacks/features.ts builds the group from them and feature-ingest checks this model's
--         columns against them; the event time is the run's start, which feature-ingest adds.
-- note:   the last order's date (ISO, null for a customer without orders), not the days since:
--         a feature counted from today changes every customer's record every day, so each run
--         would send them all again; the date changes only when the customer orders. Recency
--         is the reader's subtraction, as of the moment it needs (training/customer_features).
-- note:   a customer deleted at the source (silver keeps it, with _deleted_at) leaves the model,
--         and feature-ingest deletes its record from the feature group.

with

customers as (select * from silver_customer),

live_customers as (
  select c.* from customers as c where c._deleted_at is null
),

orders as (select * from silver_orders),

nations as (select * from silver_nation),

regions as (select * from silver_region),

customer_orders as (
  select
    o.o_custkey as customer_id,
    count(*) as order_count,
    sum(o.o_totalprice) as total_spent,
    max(o.o_orderdate) as last_order_date
  from orders as o
  group by o.o_custkey
),

ml_features as (
  select
    -- ids
    cast(c.c_custkey as bigint) as customer_id,
    -- numerics
    cast(coalesce(co.order_count, 0) as bigint) as order_count,
    cast(coalesce(co.total_spent, 0) as double) as total_spent,
    cast(
      case
        when co.order_count > 0 then co.total_spent / co.order_count
        else 0
      end as double
    ) as avg_order_value,
    strftime(co.last_order_date, '%Y-%m-%d') as last_order_date,
    -- dimensions
    n.n_name as nation,
    r.r_name as region,
    c.c_mktsegment as market_segment
  from live_customers as c
  inner join nations as n on c.c_nationkey = n.n_nationkey
  inner join regions as r on n.n_regionkey = r.r_regionkey
  left join customer_orders as co on c.c_custkey = co.customer_id
)

select * from ml_features
order by customer_id
