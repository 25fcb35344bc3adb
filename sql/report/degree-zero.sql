-- Articles a log axis cannot show: in-degree 0 (no article links to them), out-degree 0 (they link to none).
SELECT count(*) FILTER (WHERE in_degree = 0)::INTEGER AS in_zero, count(*) FILTER (WHERE out_degree = 0)::INTEGER AS out_zero FROM degrees;
