-- model:  gold.sales_summary
-- grain:  one row per order date, customer region and part category
-- inputs: silver.orders, silver.customer, silver.nation, silver.region, silver.lineitem, silver.part
-- tests:  unique(order_date, region_name, category); not_null(order_date, region_name, category)
-- tests:  range(count_orders: 1..); range(net_revenue: 0..); range(gross_sales: 0..)
-- tests:  warn row_count_change(50%)
-- note:   the category is the first word of the part's type (TPC-H's product line: STANDARD,
--         SMALL, MEDIUM, LARGE, ECONOMY, PROMO). Amounts are line amounts kept at their exact
--         decimal scale (price × (1 − discount) has four places): nothing is rounded per group,
--         so any sum over these rows equals the same sum over silver; round once, where a total
--         is presented. A customer deleted at the source keeps its sales: silver keeps the row
--         with _deleted_at, and its region is still known.

with

orders as (select * from silver_orders),

customers as (select * from silver_customer),

nations as (select * from silver_nation),

regions as (select * from silver_region),

line_items as (select * from silver_lineitem),

parts as (select * from silver_part),

order_lines as (
  select
    -- ids
    o.o_orderkey as order_id,
    -- dimensions
    o.o_orderdate as order_date,
    r.r_name as region_name,
    coalesce(split_part(p.p_type, ' ', 1), 'UNKNOWN') as category,
    -- numerics
    li.l_quantity as quantity,
    li.l_extendedprice as gross_amount,
    li.l_extendedprice * (1 - li.l_discount) as net_amount
  from line_items as li
  inner join orders as o on li.l_orderkey = o.o_orderkey
  inner join customers as c on o.o_custkey = c.c_custkey
  inner join nations as n on c.c_nationkey = n.n_nationkey
  inner join regions as r on n.n_regionkey = r.r_regionkey
  left join parts as p on li.l_partkey = p.p_partkey
),

sales_summary as (
  select
    ol.order_date,
    ol.region_name,
    ol.category,
    count(distinct ol.order_id) as count_orders,
    count(*) as count_line_items,
    sum(ol.quantity) as quantity,
    cast(sum(ol.gross_amount) as decimal(18, 2)) as gross_sales,
    cast(sum(ol.net_amount) as decimal(18, 4)) as net_revenue
  from order_lines as ol
  group by ol.order_date, ol.region_name, ol.category
)

select * from sales_summary
order by order_date, region_name, category
