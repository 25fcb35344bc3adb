-- Degrees of every article, isolated ones included (counted over distinct neighbours). Run by
-- `linkbert graph` once the edges are in.
CREATE OR REPLACE TABLE degrees AS
SELECT a.seq AS article, a.title,
       coalesce(o.out_degree, 0)::INTEGER AS out_degree,
       coalesce(i.in_degree, 0)::INTEGER AS in_degree
FROM articles a
LEFT JOIN (SELECT src, count(*) AS out_degree FROM edges GROUP BY src) o ON o.src = a.seq
LEFT JOIN (SELECT dst, count(*) AS in_degree FROM edges GROUP BY dst) i ON i.dst = a.seq
ORDER BY a.seq;
