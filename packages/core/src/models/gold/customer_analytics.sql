-- model:  gold.customer_analytics
-- grain:  one row per customer not deleted at the source
-- inputs: silver.customer, silver.orders, silver.lineitem, silver.part, silver.nation, silver.region
-- tests:  unique(customer_id); not_null(customer_id, segment, order_count, lifetime_value)
-- tests:  accepted_values(segment: champion | loyal | recent | at_risk | hibernating | prospect)
-- tests:  range(order_count: 0..); range(lifetime_value: 0..); range(churn_probability: 0..1)
-- tests:  range(recency_score: 1..5); range(frequency_score: 1..5); range(monetary_score: 1..5)
-- tests:  warn not_null(region); warn row_count_change(50%)
-- note:   transparent RFM formulas, measured from the latest order in the data (not the wall
--         clock), so a rerun over the same silver tables gives the same rows:
--         recency_days     = days from the customer's last order to the latest order in the data
--         lifetime_value   = the sum of the customer's order totals (realised value to date)
--         average_order_value = lifetime_value / order_count
--         recency_score, frequency_score, monetary_score = 1 + min(4, floor(5 × percent_rank))
--                            over the live customers with orders (quintiles, 5 best: most
--                            recent, most orders, most value; equal values score equally)
--         segment          = prospect (no order); champion (R, F and M ≥ 4); loyal (R ≥ 3 and
--                            F ≥ 3); recent (R ≥ 4); at_risk (F ≥ 3); hibernating (the rest)
--         churn_probability = 1 − exp(−recency_days / typical_gap_days), the chance that a
--                            customer ordering at a steady rate (one order per typical gap)
--                            would have ordered in the silence observed; typical_gap_days is
--                            the customer's mean days between orders, or for a customer with
--                            one order the median of that over all customers (30 when nobody
--                            has two); null for a customer who never ordered
--         preferred_category = the category (first word of the part type) with the highest net
--                            line revenue, ties broken by name
-- note:   what a real model would replace: churn_probability with a fitted survival or
--         classification model (BG/NBD's P(alive), or gradient boosting on ml_features);
--         lifetime_value with a predicted CLV (BG/NBD with Gamma-Gamma); the segment rules
--         with clusters learnt from the data. These columns keep their names and ranges.

with

customers as (select * from silver_customer),

orders as (select * from silver_orders),

line_items as (select * from silver_lineitem),

parts as (select * from silver_part),

nations as (select * from silver_nation),

regions as (select * from silver_region),

live_customers as (
  select c.* from customers as c where c._deleted_at is null
),

as_of as (
  select max(o.o_orderdate) as as_of_date from orders as o
),

order_gaps as (
  select
    o.o_custkey as customer_id,
    date_diff(
      'day',
      lag(o.o_orderdate) over (partition by o.o_custkey order by o.o_orderdate, o.o_orderkey),
      o.o_orderdate
    ) as gap_days
  from orders as o
),

customer_orders as (
  select
    o.o_custkey as customer_id,
    count(*) as order_count,
    sum(o.o_totalprice) as lifetime_value,
    max(o.o_orderdate) as last_order_date
  from orders as o
  group by o.o_custkey
),

customer_gaps as (
  select og.customer_id, avg(og.gap_days) as mean_gap_days
  from order_gaps as og
  where og.gap_days is not null
  group by og.customer_id
),

median_gap as (
  select coalesce(median(cg.mean_gap_days), 30) as median_gap_days from customer_gaps as cg
),

category_revenue as (
  select
    o.o_custkey as customer_id,
    coalesce(split_part(p.p_type, ' ', 1), 'UNKNOWN') as category,
    sum(li.l_extendedprice * (1 - li.l_discount)) as net_revenue
  from line_items as li
  inner join orders as o on li.l_orderkey = o.o_orderkey
  left join parts as p on li.l_partkey = p.p_partkey
  group by o.o_custkey, category
),

preferred as (
  select cr.customer_id, cr.category as preferred_category
  from category_revenue as cr
  qualify row_number() over (
    partition by cr.customer_id order by cr.net_revenue desc, cr.category
  ) = 1
),

rfm as (
  select
    co.*,
    date_diff('day', co.last_order_date, ao.as_of_date) as recency_days,
    coalesce(cg.mean_gap_days, mg.median_gap_days) as typical_gap_days
  from customer_orders as co
  inner join live_customers as lc on co.customer_id = lc.c_custkey
  cross join as_of as ao
  cross join median_gap as mg
  left join customer_gaps as cg on co.customer_id = cg.customer_id
),

scored as (
  select
    rfm.*,
    cast(
      1 + least(4, floor(5 * percent_rank() over (order by rfm.recency_days desc)))
      as integer
    ) as recency_score,
    cast(
      1 + least(4, floor(5 * percent_rank() over (order by rfm.order_count))) as integer
    ) as frequency_score,
    cast(
      1 + least(4, floor(5 * percent_rank() over (order by rfm.lifetime_value))) as integer
    ) as monetary_score
  from rfm
),

customer_analytics as (
  select
    -- ids
    lc.c_custkey as customer_id,
    -- dimensions
    r.r_name as region,
    lc.c_mktsegment as market_segment,
    case
      when s.customer_id is null then 'prospect'
      when s.recency_score >= 4 and s.frequency_score >= 4 and s.monetary_score >= 4
        then 'champion'
      when s.recency_score >= 3 and s.frequency_score >= 3 then 'loyal'
      when s.recency_score >= 4 then 'recent'
      when s.frequency_score >= 3 then 'at_risk'
      else 'hibernating'
    end as segment,
    p.preferred_category,
    -- numerics
    coalesce(s.order_count, 0) as order_count,
    cast(coalesce(s.lifetime_value, 0) as decimal(18, 2)) as lifetime_value,
    cast(
      coalesce(s.lifetime_value / s.order_count, 0) as decimal(18, 2)
    ) as average_order_value,
    s.recency_days,
    s.recency_score,
    s.frequency_score,
    s.monetary_score,
    round(
      1 - exp(-s.recency_days / greatest(s.typical_gap_days, 1)), 4
    ) as churn_probability,
    -- timestamps
    s.last_order_date
  from live_customers as lc
  left join nations as n on lc.c_nationkey = n.n_nationkey
  left join regions as r on n.n_regionkey = r.r_regionkey
  left join scored as s on lc.c_custkey = s.customer_id
  left join preferred as p on lc.c_custkey = p.customer_id
)

select * from customer_analytics
order by customer_id
