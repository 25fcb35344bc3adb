-- Instances per document relation.
SELECT label, CASE label WHEN 0 THEN 'contiguous' WHEN 1 THEN 'random' ELSE 'linked' END AS relation, count(*) AS pairs
FROM pairs GROUP BY 1 ORDER BY 1;
