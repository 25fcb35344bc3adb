-- How many articles have each in-degree and out-degree (distinct linked articles), degree ≥ 1.
SELECT 'in-degree' AS kind, in_degree AS degree, count(*) AS articles FROM degrees WHERE in_degree > 0 GROUP BY ALL
UNION ALL
SELECT 'out-degree', out_degree, count(*) FROM degrees WHERE out_degree > 0 GROUP BY ALL
ORDER BY kind, degree;
