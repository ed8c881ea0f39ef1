-- model:  gold.sales_summary
-- grain:  one row per order date and customer region
-- inputs: silver.orders, silver.customer, silver.nation, silver.region, silver.lineitem
-- tests:  unique(order_date, region_name); not_null(order_date, region_name, count_orders)
-- tests:  range(count_orders: 1..); range(net_revenue: 0..); range(gross_sales: 0..)
-- tests:  warn row_count_change(50%)

with

orders as (select * from silver_orders),

customers as (select * from silver_customer),

nations as (select * from silver_nation),

regions as (select * from silver_region),

line_items as (select * from silver_lineitem),

order_revenue as (
  select
    li.l_orderkey as order_id,
    sum(li.l_extendedprice * (1 - li.l_discount)) as net_revenue,
    sum(li.l_quantity) as quantity,
    count(*) as count_line_items
  from line_items as li
  group by li.l_orderkey
),

orders_by_region as (
  select
    -- ids
    o.o_orderkey as order_id,
    -- dimensions
    o.o_orderdate as order_date,
    r.r_name as region_name,
    -- numerics
    o.o_totalprice as total_price
  from orders as o
  inner join customers as c on o.o_custkey = c.c_custkey
  inner join nations as n on c.c_nationkey = n.n_nationkey
  inner join regions as r on n.n_regionkey = r.r_regionkey
),

sales_summary as (
  select
    obr.order_date,
    obr.region_name,
    count(*) as count_orders,
    sum(coalesce(orv.count_line_items, 0)) as count_line_items,
    sum(coalesce(orv.quantity, 0)) as quantity,
    sum(obr.total_price) as gross_sales,
    round(sum(coalesce(orv.net_revenue, 0)), 2) as net_revenue
  from orders_by_region as obr
  left join order_revenue as orv on obr.order_id = orv.order_id
  group by obr.order_date, obr.region_name
)

select * from sales_summary
order by order_date, region_name
