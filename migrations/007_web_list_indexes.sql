-- The web page's lists at national scale: agents by district and by name, a review period's
-- decisions by commune, status and decision, each a page at a time with its exact total.
create index agents_district on agents (campaign_id, district_code, code);
create index agents_name on agents (campaign_id, full_name, code);
create index review_decisions_period_commune on review_decisions (campaign_id, period, commune_code);
create index review_decisions_period_status on review_decisions (campaign_id, period, status, decision);
-- Ordered by commune or status, ties by code: each order an index walks.
create index agents_commune_code on agents (campaign_id, commune_code, code);
create index agents_status_code on agents (campaign_id, status, code);
