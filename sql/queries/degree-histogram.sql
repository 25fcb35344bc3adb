-- How many articles have each in-degree and each out-degree.
SELECT degree,
       count(*) FILTER (direction = 'in') AS articles_with_in_degree,
       count(*) FILTER (direction = 'out') AS articles_with_out_degree
FROM (
  SELECT in_degree AS degree, 'in' AS direction FROM degrees
  UNION ALL
  SELECT out_degree, 'out' FROM degrees
)
GROUP BY degree
ORDER BY degree;
