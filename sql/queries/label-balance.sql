-- How many pairs have each document relation (0 contiguous, 1 random, 2 linked), and their share.
SELECT label,
       CASE label WHEN 0 THEN 'contiguous' WHEN 1 THEN 'random' ELSE 'linked' END AS relation,
       count(*) AS pairs,
       round(count(*) / sum(count(*)) OVER (), 4) AS share
FROM pairs
GROUP BY label
ORDER BY label;
